// The chat screen: the top bar, the conversation list, and the open thread (thread.ts).
import { h } from "../dom.js";
import { shortTime } from "../format.js";
import {
  conversationPreview,
  sortedEntries,
  tabCounts,
  type AppState,
  type ConversationEntry,
  type InboxTab,
  type SessionState,
} from "../state.js";
import { peerLabel } from "../names.js";
import { avatar, errorBanner } from "./common.js";
import type { ViewContext } from "./context.js";
import { renderThread } from "./thread.js";

export function renderChat(state: AppState, session: SessionState, context: ViewContext): HTMLElement {
  return h(
    "div",
    { class: "chat-screen" },
    renderTopBar(state, session, context),
    state.connectionNotice &&
      h("div", { class: "notice-banner", role: "status", "data-testid": "connection-notice" }, state.connectionNotice),
    errorBanner(state.errorMessage, context.actions),
    h("div", { class: "layout" }, renderSidebar(state, session, context), renderThread(session, context)),
  );
}

function renderTopBar(state: AppState, session: SessionState, { actions }: ViewContext): HTMLElement {
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
      ...renderNotifyControls(state, actions),
      h("button", { class: "button small", type: "button", onclick: () => actions.disconnect() }, "Disconnect"),
    ),
  );
}

/** "Notify me" (offered, never asked at load: the browser's prompt appears only after this click). */
function notifyMeButton(actions: ViewContext["actions"], title: string): HTMLElement {
  return h(
    "button",
    { class: "button small", type: "button", title, "data-testid": "enable-notifications", onclick: () => actions.enableNotifications() },
    "🔔",
    h("span", { class: "notify-label" }, " Notify me"),
  );
}

/**
 * Without a notification service: Notify me until the browser has answered (desktop notifications while the tab is
 * hidden). With one: Notify me turns push on too, Stop notifications turns it off, and why push cannot be had is said.
 */
function renderNotifyControls(state: AppState, actions: ViewContext["actions"]): (HTMLElement | false)[] {
  const push = state.push;
  if (!push) {
    return [
      state.notifications === "default" && notifyMeButton(actions, "Show a desktop notification when a message arrives while this tab is hidden"),
    ];
  }
  const pushTitle = "Be notified of new messages, even while this app is closed";
  switch (push.status) {
    case "off":
      return [notifyMeButton(actions, pushTitle)];
    case "starting":
    case "stopping":
      return [
        h(
          "button",
          { class: "button small", type: "button", disabled: true, "data-testid": "push-working" },
          push.status === "starting" ? "Turning notifications on…" : "Turning notifications off…",
        ),
      ];
    case "on":
      return [
        h(
          "button",
          {
            class: "button small",
            type: "button",
            title: "Stop push notifications in this browser",
            "data-testid": "stop-notifications",
            onclick: () => actions.disableNotifications(),
          },
          "🔕",
          h("span", { class: "notify-label" }, " Stop notifications"),
        ),
      ];
    case "unavailable":
      return [
        h("span", { class: "push-unavailable", role: "status", "data-testid": "push-unavailable" }, push.reason),
        push.retry && notifyMeButton(actions, pushTitle),
      ];
  }
}

function renderSidebar(state: AppState, session: SessionState, context: ViewContext): HTMLElement {
  const { inputs, actions } = context;
  const entries = sortedEntries(session, session.tab);
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
  if (session.loadingList && entries.length === 0) {
    list = h("p", { class: "placeholder" }, "Loading conversations…");
  } else if (session.entries.size === 0) {
    list = h("p", { class: "placeholder" }, "No conversations yet. Paste an address above to start one.");
  } else if (entries.length === 0) {
    list = h("p", { class: "placeholder", "data-testid": "tab-empty" }, EMPTY_TAB[session.tab]);
  } else {
    list = h(
      "ul",
      { class: "conversation-list", "data-testid": "conversation-list" },
      ...entries.map((entry) => renderConversationItem(session, entry, context)),
    );
  }
  return h("aside", { class: "sidebar" }, form, renderTabs(session, context), list);
}

const TAB_NAMES: Record<InboxTab, string> = { messages: "Messages", requests: "Requests", blocked: "Blocked" };

const EMPTY_TAB: Record<InboxTab, string> = {
  messages: "No conversations here yet. Accepted requests and conversations you start are listed here.",
  requests: "No requests. When someone new writes to you, it waits here until you accept or block it.",
  blocked: "Nobody blocked.",
};

/** Messages (allowed), Requests (unknown peers: accept or block), Blocked: the consent list splits the inbox. */
function renderTabs(session: SessionState, { actions }: ViewContext): HTMLElement {
  const counts = tabCounts(session);
  return h(
    "nav",
    { class: "inbox-tabs", role: "tablist", "aria-label": "Inbox" },
    ...(["messages", "requests", "blocked"] as const).map((tab) => {
      const selected = session.tab === tab;
      // Requests count conversations waiting for an answer; Messages count unread messages.
      const badge = tab === "requests" ? counts.requests.conversations : tab === "messages" ? counts.messages.unread : 0;
      return h(
        "button",
        {
          type: "button",
          role: "tab",
          class: `inbox-tab${selected ? " selected" : ""}`,
          "aria-selected": selected ? "true" : "false",
          "data-testid": `inbox-tab-${tab}`,
          onclick: () => actions.selectTab(tab),
        },
        TAB_NAMES[tab],
        badge > 0 && h("span", { class: "tab-badge", "data-testid": `inbox-tab-${tab}-count` }, String(badge)),
      );
    }),
  );
}

function renderConversationItem(session: SessionState, entry: ConversationEntry, { actions, names }: ViewContext): HTMLElement {
  const { conversation, latest } = entry;
  const known = names?.get(conversation.peerAddress);
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
      avatar(conversation.peerAddress, "small", known?.avatarUrl),
      h(
        "span",
        { class: "conversation-text" },
        h(
          "span",
          { class: "conversation-top" },
          h(
            "span",
            // data-name: the verified name once looked up ("" for none); absent until then, or without names.
            { class: "peer", "data-testid": "conversation-peer", "data-name": known ? (known.name ?? "") : undefined },
            peerLabel(conversation.peerAddress, known),
          ),
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
