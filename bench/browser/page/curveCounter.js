// A back end whose curve counts and times its calls: how many curve operations a listing really makes, and how
// much of its wall time they take, measured inside the listing rather than in a loop of their own.

const OPERATIONS = ["ecdhPoint", "recoverPublicKey", "verifyDigest", "signDigest", "publicKey", "isValidPublicKey"];

export function countingBackend(backend) {
  const calls = Object.fromEntries(OPERATIONS.map((name) => [name, { count: 0, ms: 0 }]));
  const curve = Object.create(backend.curve);
  for (const name of OPERATIONS) {
    curve[name] = (...args) => {
      const started = performance.now();
      try {
        return backend.curve[name](...args);
      } finally {
        calls[name].count++;
        calls[name].ms += performance.now() - started;
      }
    };
  }
  return { backend: { ...backend, curve }, calls };
}
