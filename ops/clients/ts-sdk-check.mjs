// Checks Dementia Cloud with the official TypeScript SDK's Streamable HTTP client.
//   npm install @modelcontextprotocol/sdk
//   DEMENTIA_URL=http://localhost:8080/mcp DEMENTIA_API_KEY=... node ts-sdk-check.mjs
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.env.DEMENTIA_URL ?? "http://localhost:8080/mcp");
const transport = new StreamableHTTPClientTransport(url, {
  requestInit: { headers: { Authorization: `Bearer ${process.env.DEMENTIA_API_KEY}` } },
});
const client = new Client({ name: "dementia-ts-check", version: "1.0.0" });
await client.connect(transport);
console.log("protocol", transport.protocolVersion ?? "(negotiated)", "session", transport.sessionId);
const { tools } = await client.listTools();
console.log("tools", tools.length, tools.map((t) => t.name).join(","));
const woke = await client.callTool({ name: "wake_up", arguments: { project: "ts-check" } });
// every result is one text content: compact JSON (or plain text), no structured copy beside it
console.log("wake_up isError", woke.isError ?? false, "keys", Object.keys(JSON.parse(woke.content[0].text)).join(","));
const locked = await client.callTool({ name: "lock_context", arguments: { project: "ts-check", topic: "ts", content: "Checked from TypeScript." } });
console.log("lock_context", JSON.parse(locked.content[0].text).message);
const missing = await client.callTool({ name: "recall_context", arguments: { project: "ts-check", topic: "nope" } });
console.log("recall missing isError", missing.isError, missing.content[0].text);
await client.close();
