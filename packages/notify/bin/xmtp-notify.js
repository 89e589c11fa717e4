#!/usr/bin/env node
// npm links this committed file as the `xmtp-notify` command during `npm ci`, before the build creates dist/.
import "../dist/main.js";
