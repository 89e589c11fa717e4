// The right-hand side of the chat screen: the open conversation and its composer, or a draft (a conversation that
// starts with its first message, while postage is on) with what that message costs.
import { h } from "../dom.js";
import { fullTime, shortTime } from "../format.js";
import { noticeForOutlook, noticeForRefusal, type PostageNotice } from "../postage.js";
import { messageText, selectedEntry, type Draft, type SessionState } from "../state.js";
import { avatar } from "./common.js";
import type { ViewContext } from "./context.js";

/** How close to the bottom (in pixels) the thread must be scrolled to follow new messages. */
const STICK_TO_BOTTOM_PX = 80;

export function renderThread(session: SessionState, context: ViewContext): HTMLElement {
  const entry = selectedEntry(session);
  if (!entry && session.draft) return renderDraft(session.draft, context);
  if (!entry) {
    return h(
      "section",
      { class: "thread empty" },
      h("p", { class: "placeholder" }, "Pick a conversation, or start one with an address."),
    );
  }
  const previous = context.scroll.messagesElement;
  const stickToBottom =
    !previous ||
    previous.dataset.topic !== entry.conversation.topic ||
    previous.scrollHeight - previous.scrollTop - previous.clientHeight < STICK_TO_BOTTOM_PX;
  const me = session.address;
  const messages = h(
    "ol",
    { class: "messages", "data-testid": "messages", "data-topic": entry.conversation.topic },
    ...(entry.messages ?? []).map((message) => {
      const mine = message.senderAddress === me;
      return h(
        "li",
        {
          class: `message ${mine ? "mine" : "theirs"}${message.error ? " broken" : ""}`,
          "data-testid": "message",
          "data-sender": message.senderAddress,
        },
        h("div", { class: "bubble" }, messageText(message)),
        h("time", { class: "meta", datetime: message.sent.toISOString(), title: fullTime(message.sent) }, shortTime(message.sent)),
      );
    }),
  );
  if (entry.loadingMessages && !entry.messages) messages.append(h("li", { class: "placeholder" }, "Loading messages…"));
  else if (entry.messages?.length === 0) messages.append(h("li", { class: "placeholder" }, "No messages yet. Say hello!"));
  const previousScroll = previous?.scrollTop ?? 0;
  context.scroll.messagesElement = messages;
  queueMicrotask(() => {
    messages.scrollTop = stickToBottom ? messages.scrollHeight : previousScroll;
  });
  const peer = entry.conversation.peerAddress;
  return h(
    "section",
    { class: "thread" },
    h(
      "header",
      { class: "thread-header" },
      avatar(peer, "large"),
      h(
        "div",
        {},
        h("div", { class: "thread-peer", "data-testid": "thread-peer" }, peer),
        h(
          "div",
          { class: "thread-sub" },
          entry.conversation.context?.conversationId
            ? `conversation ${entry.conversation.context.conversationId}`
            : `since ${fullTime(entry.conversation.createdAt)}`,
        ),
      ),
    ),
    messages,
    renderComposer(context),
  );
}

function renderComposer({ inputs, actions }: ViewContext): HTMLElement {
  return h(
    "form",
    {
      class: "composer",
      onsubmit: (event: Event) => {
        event.preventDefault();
        actions.send();
      },
    },
    inputs.composer,
    h("button", { class: "button primary", type: "submit", "data-testid": "composer-send" }, "Send"),
  );
}

/** A conversation that starts with the first message: what postage asks for it, or why the node refused it. */
function renderDraft(draft: Draft, context: ViewContext): HTMLElement {
  const { inputs, actions } = context;
  context.scroll.messagesElement = undefined;
  const notice = draft.refusal ? noticeForRefusal(draft.refusal) : noticeForOutlook(draft.outlook, draft.peer);
  const free = !draft.refusal && draft.outlook.kind === "free";
  const body = h("div", { class: "draft-body" });
  if (notice) body.append(renderPostageNotice(notice, draft.refusal !== undefined));
  if (draft.sending) body.append(h("p", { class: "placeholder" }, "Starting the conversation…"));
  if (!free) {
    body.append(
      h(
        "form",
        {
          class: "grant-form",
          onsubmit: (event: Event) => {
            event.preventDefault();
            actions.useGrant(draft);
          },
        },
        h("label", { class: "grant-label" }, `Have a relationship grant from ${draft.peer}? Paste it here:`),
        h(
          "div",
          { class: "grant-row" },
          inputs.grant,
          h("button", { class: "button", type: "submit", "data-testid": "postage-grant-use" }, "Use grant"),
        ),
      ),
    );
  }
  if (!notice) body.append(h("p", { class: "placeholder" }, "No messages yet. Say hello!"));
  return h(
    "section",
    { class: "thread draft" },
    h(
      "header",
      { class: "thread-header" },
      avatar(draft.peer, "large"),
      h(
        "div",
        {},
        h("div", { class: "thread-peer", "data-testid": "thread-peer" }, draft.peer),
        h("div", { class: "thread-sub" }, "New conversation: it starts with your first message."),
      ),
    ),
    body,
    renderComposer(context),
  );
}

function renderPostageNotice(notice: PostageNotice, refused: boolean): HTMLElement {
  const terms = h("dl", { class: "postage-terms" });
  for (const { label, value } of notice.details) terms.append(h("dt", {}, label), h("dd", {}, value));
  return h(
    "div",
    {
      class: `postage-notice ${notice.tone}`,
      role: refused ? "alert" : "status",
      "data-testid": refused ? "postage-refusal" : "postage-notice",
      "data-tone": notice.tone,
    },
    h("h2", { class: "postage-title" }, notice.title),
    ...notice.paragraphs.map((text) => h("p", {}, text)),
    notice.details.length > 0 && terms,
    notice.serverMessage && h("p", { class: "postage-server" }, "The node said: ", h("q", {}, notice.serverMessage)),
    refused && h("p", { class: "postage-kept" }, "Nothing was sent: your message is still in the box."),
  );
}
