#!/usr/bin/env node
// npm links this committed file as the `xmtp-node` command during `npm ci`, before the build creates dist/: a bin
// pointing straight at dist/main.js would be skipped on a fresh clone (the file does not exist yet).
import "../dist/main.js";
