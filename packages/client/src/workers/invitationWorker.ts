// Worker thread entry (Node.js only): opens batches of invitations for the main thread's InvitationPool
// (answerWorkerRequest.ts, shared with the browsers' Web Worker).
import { parentPort } from "node:worker_threads";
import { answerWorkerRequest } from "./answerWorkerRequest.js";
import type { WorkerRequest } from "./protocol.js";
import { warmUpInvitationPath } from "./warmUp.js";

// Requests wait for the warm-up (messages queue on the port meanwhile).
const warm = warmUpInvitationPath().catch(() => undefined);

parentPort!.on("message", async (request: WorkerRequest) => {
  await warm;
  parentPort!.postMessage(await answerWorkerRequest(request));
});
