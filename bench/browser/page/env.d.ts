// Types for the benchmark page, which vite builds: `?url` imports (vite/client) and what the page puts on window,
// which bench/clientBrowser.js calls through playwright.
/// <reference types="vite/client" />

interface Window {
  xmtpBench: import("./main.js").XmtpBench;
}
