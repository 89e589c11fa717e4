// A real ENS on a test chain (anvil): TestEns.sol compiled with the pinned solc-js (offline), its registry placed at
// ENS's canonical registry address with anvil_setCode, and a resolver whose records the test sets. Shared by the
// client's names tests and the CLI's.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Contract, ContractFactory, getAddress, id, namehash, Wallet, ZeroHash, type InterfaceAbi, type JsonRpcProvider } from "ethers";
import type { Anvil } from "../../../../postage/src/test-support/anvil.js";

/** ENS's registry address, the same on mainnet and its testnets (a protocol fact: EIP-137 deployments). */
export const ENS_REGISTRY_ADDRESS = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e";

const SOURCE_UNIT = "TestEns.sol";
const sourcePath = join(dirname(fileURLToPath(import.meta.url)), SOURCE_UNIT);

interface Solc {
  compile(input: string): string;
}

interface CompiledContract {
  abi: InterfaceAbi;
  bytecode: string;
}

let compiled: { registry: CompiledContract; resolver: CompiledContract } | undefined;

/** Compiles TestEns.sol once per process (about a second with solc-js). */
export function compileTestEns(): { registry: CompiledContract; resolver: CompiledContract } {
  if (compiled) return compiled;
  const solc = createRequire(import.meta.url)("solc") as Solc;
  const input = {
    language: "Solidity",
    sources: { [SOURCE_UNIT]: { content: readFileSync(sourcePath, "utf8") } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      outputSelection: { [SOURCE_UNIT]: { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage?: string; message: string }[];
    contracts: Record<string, Record<string, { abi: InterfaceAbi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`solc refused ${SOURCE_UNIT}:\n${errors.map((e) => e.formattedMessage ?? e.message).join("\n")}`);
  const of = (name: string): CompiledContract => {
    const contract = output.contracts[SOURCE_UNIT][name];
    return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  };
  compiled = { registry: of("TestEnsRegistry"), resolver: of("TestEnsResolver") };
  return compiled;
}

export interface TestEns {
  registry: string;
  resolver: string;
  /** Points `name` at `address` (creating the name and its parents, owned by the deployer); null clears it. */
  setAddress(name: string, address: string | null): Promise<void>;
  /** Sets the reverse record (primary name) of `address`: the name its `<hex>.addr.reverse` node claims. */
  setReverse(address: string, name: string): Promise<void>;
  /** Sets a text record (ENSIP-5) of `name`, such as its "avatar". */
  setText(name: string, key: string, value: string): Promise<void>;
}

/**
 * Deploys the test ENS on anvil: the registry is deployed normally, then its runtime code (which carries its
 * owner, an immutable) copied to the canonical address; the resolver is deployed normally and knows that address.
 * Uses the chain's first dev account, one transaction at a time.
 */
export async function deployTestEns(anvil: Anvil): Promise<TestEns> {
  const { registry: registryArtifact, resolver: resolverArtifact } = compileTestEns();
  const provider: JsonRpcProvider = anvil.provider();
  const deployer = new Wallet(anvil.accounts[0], provider);

  const deployedRegistry = await new ContractFactory(registryArtifact.abi, registryArtifact.bytecode, deployer).deploy();
  await deployedRegistry.waitForDeployment();
  const runtime = await provider.getCode(await deployedRegistry.getAddress());
  await provider.send("anvil_setCode", [ENS_REGISTRY_ADDRESS, runtime]);

  const deployedResolver = await new ContractFactory(resolverArtifact.abi, resolverArtifact.bytecode, deployer).deploy(ENS_REGISTRY_ADDRESS);
  await deployedResolver.waitForDeployment();
  const resolverAddress = await deployedResolver.getAddress();

  const registry = new Contract(ENS_REGISTRY_ADDRESS, registryArtifact.abi, deployer);
  const resolver = new Contract(resolverAddress, resolverArtifact.abi, deployer);
  const mine = async (call: Promise<{ wait(): Promise<unknown> }>) => {
    await (await call).wait();
  };

  // Each node from the root down: owned by the deployer and served by the resolver.
  const claim = async (name: string): Promise<string> => {
    const labels = name.split(".");
    let parent = ZeroHash; // the root node
    for (let i = labels.length - 1; i >= 0; i--) {
      const child = namehash(labels.slice(i).join("."));
      if ((await registry.owner(child)) !== deployer.address) {
        await mine(registry.setSubnodeOwner(parent, id(labels[i]), deployer.address));
      }
      parent = child;
    }
    if ((await registry.resolver(parent)) !== resolverAddress) await mine(registry.setResolver(parent, resolverAddress));
    return parent;
  };

  return {
    registry: ENS_REGISTRY_ADDRESS,
    resolver: resolverAddress,
    async setAddress(name, address) {
      const node = await claim(name);
      await mine(resolver.setAddr(node, address === null ? "0x0000000000000000000000000000000000000000" : getAddress(address)));
    },
    async setReverse(address, name) {
      const node = await claim(`${getAddress(address).slice(2).toLowerCase()}.addr.reverse`);
      await mine(resolver.setName(node, name));
    },
    async setText(name, key, value) {
      await mine(resolver.setText(await claim(name), key, value));
    },
  };
}
