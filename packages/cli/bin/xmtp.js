#!/usr/bin/env node
// npm links this committed file as the `xmtp` command during `npm ci`, before the build creates dist/. Pointing the
// bin straight at dist/main.js breaks on a fresh clone: npm skips linking a file that does not exist yet, and tsc
// writes it without the executable bit.
import "../dist/main.js";
