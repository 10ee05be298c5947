// Checks Dementia Cloud with the MCP TypeScript v2 client (@modelcontextprotocol/client, pinned in package.json) over
// Streamable HTTP, in one of its three version-negotiation modes:
//   MODE=default   no versionNegotiation option: the legacy 2025 initialize handshake (the client's 'legacy' default)
//   MODE=auto      versionNegotiation { mode: 'auto' }: probe with server/discover, 2026-07-28 when the server offers it
//   MODE=pin2026   versionNegotiation { mode: { pin: '2026-07-28' } }: stateless 2026-07-28 or a loud failure
//
//   npm install            (in ops/clients)
//   DEMENTIA_URL=http://localhost:8080/mcp DEMENTIA_API_KEY=... DEMENTIA_PROJECT=v2-check MODE=auto \
//       node_modules/.bin/node v2-client-check.mjs
//
// Steps: connect, list tools, lock_context {project, topic, content}, recall_context {project, topic}, and
// resources/read of dementia://<project>/context/<topic>. Each step's failure is recorded and the next steps still run.
// The last line is RESULT <json> (what ModernClientTest asserts); the exit status is 1 when any step failed.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const MODES = {
  default: undefined,
  auto: { mode: 'auto' },
  pin2026: { mode: { pin: '2026-07-28' } },
};
const modeName = process.env.MODE || 'default';
if (!(modeName in MODES)) {
  console.error(`MODE must be one of ${Object.keys(MODES).join(', ')}, not ${modeName}`);
  process.exit(2);
}
const url = new URL(process.env.DEMENTIA_URL ?? 'http://localhost:8080/mcp');
const project = process.env.DEMENTIA_PROJECT ?? 'v2-check';
const topic = process.env.DEMENTIA_TOPIC ?? 'v2 rule';
const content = `Checked from the v2 client (${modeName}).`;
const uri = `dementia://${encodeURIComponent(project)}/context/${encodeURIComponent(topic)}`;

const result = { mode: modeName, protocol: null, era: null, errors: [] };

function describe(e) {
  const parts = [e?.name ?? 'Error', e?.message ?? String(e)];
  if (e?.code !== undefined) parts.push(`code ${e.code}`);
  if (e?.data !== undefined) parts.push(`data ${JSON.stringify(e.data)}`);
  return parts.join(': ');
}

async function step(name, fn) {
  try {
    return await fn();
  } catch (e) {
    result.errors.push(`${name}: ${describe(e)}`);
    return undefined;
  }
}

/** The text of a tool result's text contents; a tool error (isError) is recorded as a step error. */
function toolText(name, r) {
  const text = (r?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
  if (r?.isError) throw new Error(`${name} returned isError: ${text}`);
  return text;
}

const transport = new StreamableHTTPClientTransport(url, {
  requestInit: { headers: { Authorization: `Bearer ${process.env.DEMENTIA_API_KEY}` } },
});
const client = new Client(
  { name: 'dementia-v2-check', version: '1.0.0' },
  { capabilities: {}, ...(MODES[modeName] ? { versionNegotiation: MODES[modeName] } : {}) }
);

const connected = await step('connect', async () => {
  await client.connect(transport);
  return true;
});
if (connected) {
  result.protocol = client.getNegotiatedProtocolVersion() ?? null;
  result.era = client.getProtocolEra() ?? null;
  result.transportProtocol = transport.protocolVersion ?? null;
  result.session = transport.sessionId ?? null;
  result.server = client.getServerVersion()?.name ?? null;
  result.supportedVersions = client.getDiscoverResult()?.supportedVersions ?? null;

  const tools = await step('tools/list', () => client.listTools());
  result.tools = tools ? tools.tools.map((t) => t.name) : null;

  const locked = await step('lock_context', async () =>
    toolText('lock_context', await client.callTool({ name: 'lock_context', arguments: { project, topic, content } }))
  );
  result.locked = locked === undefined ? null : (await step('lock_context result', () => JSON.parse(locked).version)) ?? null;

  const recalled = await step('recall_context', async () =>
    toolText('recall_context', await client.callTool({ name: 'recall_context', arguments: { project, topic } }))
  );
  result.recalled = recalled === undefined ? null : (await step('recall_context result', () => JSON.parse(recalled).content)) ?? null;

  const read = await step('resources/read', () => client.readResource({ uri }));
  result.readUri = read?.contents?.[0]?.uri ?? null;
  result.read = read?.contents?.[0]?.text ?? null;

  await step('close', () => client.close());
}
result.expectedContent = content;
console.log('RESULT ' + JSON.stringify(result));
process.exit(result.errors.length === 0 ? 0 : 1);
