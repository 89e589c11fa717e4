export { ArchiveError, type ArchiveErrorCode } from "./ArchiveError.js";
export { ArchiveMessageApi } from "./ArchiveMessageApi.js";
export { ARCHIVE_KEY_SALT, ARCHIVE_MAGIC, ARCHIVE_VERSION, archiveSecret, readArchiveHeader, type ArchivedTopic, type InboxArchiveHeader } from "./format.js";
export { exportInbox, inboxTopics, type ExportInboxOptions, type ExportProgress } from "./exportInbox.js";
export { importInbox, type ImportInboxOptions, type ImportProgress, type ImportReport, type RefusedEnvelope } from "./importInbox.js";
export { archiveKeysFromWallet, readArchive, readArchiveWithWallet, type OpenedInboxArchive } from "./readArchive.js";
