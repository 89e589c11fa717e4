// The chat screen: the top bar, the conversation list, and the open thread (thread.ts).
import { h } from "../dom.js";
import { shortAddress, shortTime } from "../format.js";
import { conversationPreview, sortedEntries, type AppState, type ConversationEntry, type SessionState } from "../state.js";
import { avatar, errorBanner } from "./common.js";
import type { ViewContext } from "./context.js";
import { renderThread } from "./thread.js";

export function renderChat(state: AppState, session: SessionState, context: ViewContext): HTMLElement {
  return h(
    "div",
    { class: "chat-screen" },
    renderTopBar(session, context),
    state.connectionNotice &&
      h("div", { class: "notice-banner", role: "status", "data-testid": "connection-notice" }, state.connectionNotice),
    errorBanner(state.errorMessage, context.actions),
    h("div", { class: "layout" }, renderSidebar(state, session, context), renderThread(session, context)),
  );
}

function renderTopBar(session: SessionState, { actions }: ViewContext): HTMLElement {
  const address = session.address;
  return h(
    "header",
    { class: "top-bar" },
    h("span", { class: "brand" }, h("span", { class: "brand-dot", "aria-hidden": "true" }), "XMTP chat"),
    h("span", { class: "node-url", title: "The node this app talks to" }, session.apiUrl),
    h(
      "span",
      { class: "me" },
      avatar(address),
      h("span", { class: "me-address", title: address, "data-testid": "my-address", "data-address": address }, address),
      h("span", { class: "wallet-kind" }, session.walletKind === "browser" ? "browser wallet" : "development wallet"),
      h(
        "button",
        {
          class: "button small",
          type: "button",
          title: "Copy your address",
          onclick: (event: Event) => {
            const button = event.currentTarget as HTMLButtonElement;
            void navigator.clipboard?.writeText(address).then(
              () => (button.textContent = "Copied"),
              () => actions.showError("Could not copy to the clipboard; select the address and copy it by hand."),
            );
          },
        },
        "Copy",
      ),
      h("button", { class: "button small", type: "button", onclick: () => actions.disconnect() }, "Disconnect"),
    ),
  );
}

function renderSidebar(state: AppState, session: SessionState, context: ViewContext): HTMLElement {
  const { inputs, actions } = context;
  const entries = sortedEntries(session);
  const form = h(
    "form",
    {
      class: "new-conversation",
      onsubmit: (event: Event) => {
        event.preventDefault();
        actions.startConversation();
      },
    },
    inputs.newConversationAddress,
    h(
      "button",
      { class: "button primary", type: "submit", disabled: state.busy, "data-testid": "new-conversation-start" },
      "Start",
    ),
  );
  let list: HTMLElement;
  if (session.loadingList) {
    list = h("p", { class: "placeholder" }, "Loading conversations…");
  } else if (entries.length === 0) {
    list = h("p", { class: "placeholder" }, "No conversations yet. Paste an address above to start one.");
  } else {
    list = h(
      "ul",
      { class: "conversation-list", "data-testid": "conversation-list" },
      ...entries.map((entry) => renderConversationItem(session, entry, context)),
    );
  }
  return h("aside", { class: "sidebar" }, form, list);
}

function renderConversationItem(session: SessionState, entry: ConversationEntry, { actions }: ViewContext): HTMLElement {
  const { conversation, latest } = entry;
  const selected = session.selectedTopic === conversation.topic;
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: `conversation-item${selected ? " selected" : ""}${entry.unread ? " unread" : ""}`,
        "data-testid": "conversation-item",
        "data-peer": conversation.peerAddress,
        "aria-current": selected ? "true" : undefined,
        title: conversation.peerAddress,
        onclick: () => actions.select(conversation.topic),
      },
      avatar(conversation.peerAddress),
      h(
        "span",
        { class: "conversation-text" },
        h(
          "span",
          { class: "conversation-top" },
          h("span", { class: "peer" }, shortAddress(conversation.peerAddress)),
          conversation.context?.conversationId && h("span", { class: "context" }, conversation.context.conversationId),
          h("span", { class: "time" }, latest ? shortTime(latest.sent) : ""),
        ),
        h(
          "span",
          { class: "conversation-bottom" },
          h("span", { class: "preview", "data-testid": "conversation-preview" }, conversationPreview(entry, session.address)),
          entry.unread > 0 && h("span", { class: "badge", "aria-label": `${entry.unread} unread` }, String(entry.unread)),
        ),
      ),
    ),
  );
}
