// The --to file of `xmtp broadcast`: one address per line; blank lines and # comments (whole lines, or after an
// address) are ignored; every line that is not an address is reported with its number.
import { checkAddressInput } from "@xmtp-ts/client";

export interface RecipientsFile {
  addresses: string[];
  invalid: { line: number; text: string; problem: string }[];
}

export function parseRecipients(text: string): RecipientsFile {
  const addresses: string[] = [];
  const invalid: RecipientsFile["invalid"] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const entry = raw.replace(/#.*$/, "").trim();
    if (entry === "") return;
    const check = checkAddressInput(entry);
    if (check.ok) addresses.push(check.address);
    else {
      const problem =
        check.problem === "not_an_address"
          ? "not an Ethereum address (0x followed by 40 hex digits)"
          : "does not match its EIP-55 checksum (mixed case): a character is probably mistyped";
      invalid.push({ line: i + 1, text: entry, problem });
    }
  });
  return { addresses, invalid };
}
