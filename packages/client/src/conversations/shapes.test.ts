// The shapes must stay true to the classes: an app typed against them takes the real client unchanged. The checks
// are types (tsc, `npm run typecheck:tests`): if a class drifts from its shape, this file stops compiling.
import { describe, expectTypeOf, it } from "vitest";
import type { Client } from "../Client.js";
import type { Conversation } from "./Conversation.js";
import type { DecodedMessage } from "./DecodedMessage.js";
import type { ConversationShape, ConversationsShape, DecodedMessageShape, MessageStreamShape } from "./shapes.js";
import type { MessageStream } from "./streams.js";

describe("conversation shapes", () => {
  it("are satisfied by the client's classes", () => {
    expectTypeOf<DecodedMessage<unknown, Conversation>>().toExtend<DecodedMessageShape>();
    expectTypeOf<Conversation>().toExtend<ConversationShape>();
    expectTypeOf<MessageStream<DecodedMessage<unknown, Conversation>>>().toExtend<MessageStreamShape<DecodedMessageShape>>();
    expectTypeOf<Client["conversations"]>().toExtend<ConversationsShape>();
  });

  it("do not accept what lacks a field apps read", () => {
    expectTypeOf<{ id: string; sent: Date; content: unknown }>().not.toExtend<DecodedMessageShape>();
    expectTypeOf<Omit<ConversationShape, "send">>().not.toExtend<ConversationShape>();
  });
});
