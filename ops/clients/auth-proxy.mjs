// A small header-injecting reverse proxy for running MCP clients that cannot send an Authorization header against a
// Dementia Cloud server that needs a key. The conformance suite (@modelcontextprotocol/conformance, its `server`
// command) has no flag or variable for headers, so tests put this proxy in front of the server and point the suite at
// the proxy.
//
//   AUTH="Bearer <key>" UPSTREAM=http://127.0.0.1:8080 LISTEN_PORT=0 node auth-proxy.mjs
//
//   AUTH         the Authorization header value to send upstream (replaces any the client sent); unset: none added
//   UPSTREAM     the server's base URL (default http://127.0.0.1:8080); the request path is kept as is
//   LISTEN_PORT  the port to listen on, on 127.0.0.1 (default 0: a free port)
//
// Once listening it prints one line `auth-proxy listening on 127.0.0.1:<port> -> <upstream>` to stdout, so a test
// that starts it with LISTEN_PORT=0 reads the port from there.
//
// What it forwards: the method, the path, the raw header names and values, and the body, unchanged; the response is
// streamed back as it comes (SSE included), and the upstream request is aborted when the client goes away, so closing
// a stream still reaches the server. Host and Origin are rewritten to the upstream authority only when they name the
// proxy itself; any other Host or Origin (the DNS-rebinding probe's evil.example.com) passes through untouched.
// Caveat: Node's HTTP parser trims the whitespace around header values, so a value with surrounding spaces (the
// "Mcp-Name with surrounding spaces" probe) reaches the server trimmed.
import http from 'node:http';

const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:8080');
const auth = process.env.AUTH;
const requestedPort = Number(process.env.LISTEN_PORT ?? 0);
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`auth-proxy: LISTEN_PORT must be a port number (0 for a free one), not ${process.env.LISTEN_PORT}`);
  process.exit(2);
}

// host:port forms that name this proxy; filled in once the port is known
const selfAuthorities = new Set();

const server = http.createServer((req, res) => {
  const raw = req.rawHeaders;
  const headers = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    let value = raw[i + 1];
    const lower = name.toLowerCase();
    if (lower === 'authorization' && auth) continue;
    if (lower === 'host' && selfAuthorities.has(value)) value = upstream.host;
    if (lower === 'origin') {
      try {
        const origin = new URL(value);
        if (selfAuthorities.has(origin.host)) value = `${origin.protocol}//${upstream.host}`;
      } catch {
        // not a URL: forwarded as is
      }
    }
    headers.push(name, value);
  }
  if (auth) headers.push('Authorization', auth);
  const up = http.request(
    { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, setHost: false },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders);
      res.flushHeaders();
      upRes.on('data', (chunk) => res.write(chunk));
      upRes.on('end', () => res.end());
      upRes.on('error', () => res.destroy());
    }
  );
  up.on('error', (e) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`auth-proxy: upstream error: ${e.message}`);
    } else {
      res.destroy();
    }
  });
  res.on('close', () => up.destroy());
  req.pipe(up);
});

server.listen(requestedPort, '127.0.0.1', () => {
  const port = server.address().port;
  for (const host of ['127.0.0.1', 'localhost', '[::1]']) selfAuthorities.add(`${host}:${port}`);
  console.log(`auth-proxy listening on 127.0.0.1:${port} -> ${upstream.href}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
