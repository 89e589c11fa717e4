/** This package's version, sent as `X-Client-Version: xmtp-ts/<version>` (kept equal to package.json by a test). */
export const CLIENT_VERSION = "0.1.0";
export const CLIENT_VERSION_HEADER = `xmtp-ts/${CLIENT_VERSION}`;
