// Shared by the security integration tests: nodes started with a given security configuration, deep-merged over
// the documented defaults.
import { DEFAULT_SECURITY_CONFIG, type SecurityConfig } from "../../src/security/index.js";
import type { NodeComponents } from "../../src/index.js";
import { startTestNode, type TestNode } from "../http/helpers.js";

export interface SecurityOverrides {
  accessMode?: SecurityConfig["accessMode"];
  adminToken?: string;
  trustProxy?: boolean;
  authzRefreshMs?: number;
  rateLimits?: Partial<SecurityConfig["rateLimits"]>;
  limits?: Partial<SecurityConfig["limits"]>;
}

export function securityConfig(overrides: SecurityOverrides = {}): SecurityConfig {
  const base = structuredClone(DEFAULT_SECURITY_CONFIG);
  return {
    ...base,
    ...overrides,
    rateLimits: { ...base.rateLimits, ...overrides.rateLimits },
    limits: { ...base.limits, ...overrides.limits },
  };
}

export function startSecureNode(overrides: SecurityOverrides = {}, components: Partial<NodeComponents> = {}): Promise<TestNode> {
  return startTestNode({ security: securityConfig(overrides) }, components);
}

export const ADMIN_TOKEN = "test-admin-token-5b0c1d2e3f40";

export async function admin(node: { url: string }, method: string, path: string, body?: unknown, token = ADMIN_TOKEN) {
  const response = await fetch(node.url + path, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

export async function metricsText(node: { url: string }): Promise<string> {
  const response = await fetch(node.url + "/metrics");
  return response.text();
}

/** The value of one sample in Prometheus text, e.g. sample(text, 'xmtp_rate_limited_total{limit="publish"}'). */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
