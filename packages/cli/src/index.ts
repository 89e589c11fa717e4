export { run, CLI_VERSION, type CliIo } from "./run.js";
export { parseCommandLine, parseAddress, parseApiUrl, DEFAULT_API_URL, USAGE, type Command } from "./args.js";
export { ExitCode, CliError, toCliError, type ExitCodeName } from "./errors.js";
export {
  defaultKeyFile,
  readKeyFile,
  writeKeyFile,
  loadIdentity,
  initIdentity,
  identityFromPrivateKey,
  type WalletIdentity,
} from "./identity.js";
export { privateKeySigner, type WalletSigner } from "./signer.js";
export type { ChatClient, ChatConversation, ChatMessage, ChatPostage, ConnectOptions, PayerConfig } from "./chatClient.js";
