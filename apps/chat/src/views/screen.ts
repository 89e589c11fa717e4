// The whole page from the state: the connect screen without a session, the chat screen with one.
import { documentTitle, type AppState } from "../state.js";
import { renderChat } from "./chat.js";
import { renderConnect } from "./connect.js";
import type { ConnectEnvironment, ViewContext } from "./context.js";

export function renderScreen(state: AppState, env: ConnectEnvironment, context: ViewContext): HTMLElement {
  document.title = documentTitle(state);
  // Locked while a message is sent, so that it is not sent twice.
  context.inputs.composer.disabled = state.sending;
  return state.session ? renderChat(state, state.session, context) : renderConnect(state, env, context);
}
