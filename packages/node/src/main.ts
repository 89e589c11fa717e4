#!/usr/bin/env node
console.error("xmtp-node: not implemented yet"); process.exit(1);
