// The right-hand side of the chat screen: the open conversation and its composer, or a draft (a conversation that
// starts with its first message, while postage is on) with what that message costs.
import { h } from "../dom.js";
import { clockTime, fullTime, withDaySeparators } from "../format.js";
import { peerLabel } from "../names.js";
import { noticeForOutlook, noticeForRefusal, type PostageNotice } from "../postage.js";
import { consentOf, messageText, selectedEntry, type ConversationEntry, type Draft, type OutgoingMessage, type SessionState } from "../state.js";
import type { ChatMessage } from "../xmtp.js";
import { QUICK_REACTIONS, reactionOf, reactionsByMessage, replyOf, type ReactionSummary } from "../reactions.js";
import { avatar } from "./common.js";
import type { PeerNames, ViewContext } from "./context.js";

/** How close to the bottom (in pixels) the thread must be scrolled to follow new messages. */
const STICK_TO_BOTTOM_PX = 80;

/** The peer in a thread's header: the verified name with the address under it, or the address alone. */
function peerTitle(peer: string, context: ViewContext): HTMLElement[] {
  const name = context.names?.get(peer)?.name;
  if (!name) return [h("div", { class: "thread-peer", "data-testid": "thread-peer", title: peer }, peer)];
  return [
    h("div", { class: "thread-peer", "data-testid": "thread-peer", title: peer }, name),
    h("div", { class: "thread-address", "data-testid": "thread-peer-address" }, peer),
  ];
}

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
  const reactions = reactionsByMessage(entry.messages ?? [], me);
  const messages = h(
    "ol",
    { class: "messages", "data-testid": "messages", "data-topic": entry.conversation.topic },
    ...withDaySeparators(threadItems(entry)).map((row) => {
      if (row.kind === "day") {
        return h("li", { class: "day-separator", role: "separator", "data-testid": "day-separator", "data-day": row.key }, h("span", {}, row.label));
      }
      const item = row.message;
      if (item.outgoing) return renderOutgoing(entry, item.outgoing, me, context);
      return renderMessage(entry, item.message, me, reactions.get(item.message.id), context);
    }),
  );
  if (entry.loadingMessages && !entry.messages) messages.append(h("li", { class: "placeholder" }, "Loading messages…"));
  else if (entry.messages?.length === 0 && !entry.outbox?.length) messages.append(h("li", { class: "placeholder" }, "No messages yet. Say hello!"));
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
      avatar(peer, "large", context.names?.get(peer)?.avatarUrl),
      h(
        "div",
        {},
        ...peerTitle(peer, context),
        h(
          "div",
          { class: "thread-sub" },
          entry.conversation.context?.conversationId
            ? `conversation ${entry.conversation.context.conversationId}`
            : `since ${fullTime(entry.conversation.createdAt)}`,
        ),
      ),
    ),
    renderConsentBar(session, peer, context),
    messages,
    renderReplyBar(session, entry, context),
    renderComposer(context),
  );
}

/** Above a request's thread: accept or block; above a blocked one: unblock. Nothing for an accepted one. */
function renderConsentBar(session: SessionState, peer: string, { actions }: ViewContext): HTMLElement | undefined {
  if (!session.consentLoaded) return undefined;
  const consent = consentOf(session, peer);
  if (consent === "allowed") return undefined;
  const button = (label: string, allowed: boolean, testId: string, primary = false) =>
    h("button", { class: `button small${primary ? " primary" : ""}`, type: "button", "data-testid": testId, onclick: () => actions.setConsent(peer, allowed) }, label);
  if (consent === "denied") {
    return h(
      "div",
      { class: "consent-bar blocked", "data-testid": "consent-bar", "data-consent": consent },
      h("span", { class: "consent-text" }, "You blocked this address. Its messages stay under Blocked, without notifications."),
      button("Unblock", true, "consent-unblock"),
    );
  }
  return h(
    "div",
    { class: "consent-bar request", "data-testid": "consent-bar", "data-consent": consent },
    h("span", { class: "consent-text" }, "A message request: you have not talked with this address. Accept to move it to Messages, or block it. Replying accepts it too."),
    h("span", { class: "consent-actions" }, button("Block", false, "consent-block"), button("Accept", true, "consent-accept", true)),
  );
}

/** The thread's messages, then ours still sending or failed, each with the time it goes under. */
function threadItems(entry: ConversationEntry): ThreadItem[] {
  // Reactions are not messages of their own: they show under the message they are about.
  const items: ThreadItem[] = (entry.messages ?? []).filter((m) => !reactionOf(m)).map((message) => ({ sent: message.sent, message }));
  for (const outgoing of entry.outbox ?? []) items.push({ sent: outgoing.written, outgoing });
  return items;
}

type ThreadItem = { sent: Date; message: ChatMessage; outgoing?: undefined } | { sent: Date; message?: undefined; outgoing: OutgoingMessage };

/** A message of the thread: its quote if it is a reply, the bubble, time and status, reactions, and its actions. */
function renderMessage(
  entry: ConversationEntry,
  message: ChatMessage,
  me: string,
  reactions: readonly ReactionSummary[] | undefined,
  { actions, names }: ViewContext,
): HTMLElement {
  const mine = message.senderAddress === me;
  const topic = entry.conversation.topic;
  const reply = replyOf(message);
  const readable = !message.error;
  return h(
    "li",
    {
      class: `message ${mine ? "mine" : "theirs"}${message.error ? " broken" : ""}`,
      "data-testid": "message",
      "data-sender": message.senderAddress,
      "data-status": mine ? "sent" : undefined,
      "data-message-id": message.id,
    },
    reply && renderQuote(entry, reply.reference, me, names),
    h(
      "div",
      { class: "bubble-row" },
      h("div", { class: "bubble" }, messageText(message)),
      readable &&
        h(
          "span",
          { class: "message-actions", "data-testid": "message-actions" },
          ...QUICK_REACTIONS.map((emoji) =>
            h(
              "button",
              {
                class: "react-button",
                type: "button",
                title: `React ${emoji}`,
                "aria-label": `React ${emoji}`,
                "data-testid": "react",
                "data-emoji": emoji,
                onclick: () => actions.react(topic, message.id, emoji),
              },
              emoji,
            ),
          ),
          h(
            "button",
            { class: "react-button reply", type: "button", title: "Reply", "data-testid": "reply", onclick: () => actions.startReply(topic, message.id) },
            "↩ Reply",
          ),
        ),
    ),
    reactions &&
      h(
        "span",
        { class: "reactions", "data-testid": "reactions" },
        ...reactions.map((r) =>
          h(
            "button",
            {
              class: `reaction-chip${r.mine ? " mine" : ""}`,
              type: "button",
              title: r.mine ? "Tap to take your reaction back" : `Tap to react ${r.emoji} too`,
              "aria-pressed": r.mine ? "true" : "false",
              "data-testid": "reaction",
              "data-emoji": r.emoji,
              "data-count": String(r.count),
              onclick: () => actions.react(topic, message.id, r.emoji),
            },
            `${r.emoji} ${r.count}`,
          ),
        ),
      ),
    h(
      "span",
      { class: "meta" },
      h("time", { datetime: message.sent.toISOString(), title: fullTime(message.sent) }, clockTime(message.sent)),
      mine && h("span", { class: "send-status sent", "data-testid": "message-status" }, " · Sent"),
    ),
  );
}

/** The message a reply answers, quoted above it (or a note that it is not in this thread). */
function renderQuote(entry: ConversationEntry, reference: string, me: string, names: PeerNames | undefined): HTMLElement {
  const quoted = entry.messages?.find((m) => m.id === reference);
  const who = quoted ? (quoted.senderAddress === me ? "You" : peerLabel(quoted.senderAddress, names?.get(quoted.senderAddress))) : undefined;
  return h(
    "div",
    { class: "quote", "data-testid": "quote", "data-reference": reference },
    who && h("span", { class: "quote-author" }, who),
    h("span", { class: "quote-text" }, quoted ? messageText(quoted) : "An earlier message that is not in this thread"),
  );
}

/** One of our messages the node has not accepted: "Sending…", or "Not sent" with why and a retry. */
function renderOutgoing(entry: ConversationEntry, item: OutgoingMessage, me: string, { actions, names }: ViewContext): HTMLElement {
  const failed = item.status === "failed";
  const topic = entry.conversation.topic;
  return h(
    "li",
    {
      class: `message mine outgoing ${item.status}`,
      "data-testid": "message",
      "data-sender": me,
      "data-status": item.status,
    },
    item.replyTo && renderQuote(entry, item.replyTo, me, names),
    h("div", { class: "bubble" }, item.text),
    h(
      "span",
      { class: "meta" },
      h("time", { datetime: item.written.toISOString(), title: fullTime(item.written) }, clockTime(item.written)),
      failed
        ? h("span", { class: "send-status failed", "data-testid": "message-status", title: item.error }, " · Not sent")
        : h("span", { class: "send-status sending", "data-testid": "message-status" }, " · Sending…"),
    ),
    failed &&
      h(
        "span",
        { class: "send-failure" },
        h("span", { class: "send-failure-reason", "data-testid": "send-failure" }, item.error ?? ""),
        h(
          "button",
          { class: "link-button retry", type: "button", "data-testid": "message-retry", onclick: () => actions.retry(topic, item.localId) },
          "Retry",
        ),
      ),
  );
}

/** What the composer answers, if Reply was chosen on a message of this conversation; × cancels it. */
function renderReplyBar(session: SessionState, entry: ConversationEntry, { actions, names }: ViewContext): HTMLElement | undefined {
  const target = session.replyingTo;
  if (!target || target.topic !== entry.conversation.topic) return undefined;
  return h(
    "div",
    { class: "reply-bar", "data-testid": "reply-bar" },
    h("span", { class: "reply-bar-label" }, "Replying to"),
    renderQuote(entry, target.messageId, session.address, names),
    h("button", { class: "icon-button", type: "button", "aria-label": "Cancel the reply", "data-testid": "reply-cancel", onclick: () => actions.cancelReply() }, "×"),
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
      avatar(draft.peer, "large", context.names?.get(draft.peer)?.avatarUrl),
      h(
        "div",
        {},
        ...peerTitle(draft.peer, context),
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
