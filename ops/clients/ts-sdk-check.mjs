// Checks Dementia Cloud with the official TypeScript SDK's Streamable HTTP client: every method the server announces.
//   npm install            (in ops/clients: @modelcontextprotocol/sdk, pinned in package.json)
//   DEMENTIA_URL=http://localhost:8080/mcp DEMENTIA_API_KEY=... node ts-sdk-check.mjs
// The last line is RESULT <json>: what TypeScriptSdkTest asserts.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.env.DEMENTIA_URL ?? "http://localhost:8080/mcp");
const project = process.env.DEMENTIA_PROJECT ?? "ts-check";
const transport = new StreamableHTTPClientTransport(url, {
  requestInit: { headers: { Authorization: `Bearer ${process.env.DEMENTIA_API_KEY}` } },
});
const client = new Client({ name: "dementia-ts-check", version: "1.0.0" });
await client.connect(transport);
const result = { protocol: transport.protocolVersion ?? null, session: transport.sessionId ?? null };
result.instructions = client.getInstructions() ?? "";
result.capabilities = Object.keys(client.getServerCapabilities() ?? {});
const { tools } = await client.listTools();
result.tools = tools.map((t) => t.name);
const woke = await client.callTool({ name: "wake_up", arguments: { project } });
result.wakeUpIsError = woke.isError ?? false;
const locked = await client.callTool({ name: "lock_context", arguments: { project, topic: "ts rule", content: "Checked from TypeScript." } });
result.locked = JSON.parse(locked.content[0].text).version;
const missing = await client.callTool({ name: "recall_context", arguments: { project, topic: "nope" } });
result.missingIsError = missing.isError ?? false;
const { prompts } = await client.listPrompts();
result.prompts = prompts.map((p) => p.name);
const start = await client.getPrompt({ name: "start-session", arguments: { project } });
result.startSession = start.messages[0].content.text;
const end = await client.getPrompt({ name: "end-session", arguments: {} });
result.endSession = end.messages[0].content.text;
const { resources } = await client.listResources();
result.resources = resources.map((r) => r.uri);
const { resourceTemplates } = await client.listResourceTemplates();
result.templates = resourceTemplates.map((t) => t.uriTemplate);
const read = await client.readResource({ uri: `dementia://${encodeURIComponent(project)}/context/ts%20rule` });
result.read = read.contents[0].text;
const topics = await client.complete({
  ref: { type: "ref/resource", uri: "dementia://{project}/context/{topic}" },
  argument: { name: "topic", value: "ts" },
  context: { arguments: { project } },
});
result.completedTopics = topics.completion.values;
const projects = await client.complete({ ref: { type: "ref/prompt", name: "start-session" }, argument: { name: "project", value: "ts" } });
result.completedProjects = projects.completion.values;
await client.ping();
result.ping = true;
await client.close();
console.log("RESULT " + JSON.stringify(result));
