package cloud.dementia.db.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * A TCP proxy on 127.0.0.1 in front of a server, to make the network between the service and its database slow
 * ({@link #delay}: each chunk waits that long, both ways) or silent ({@link #silence}: nothing is passed on, as when
 * packets are dropped, until it is lifted; what was held is then dropped with its connections), or cut off at a chosen
 * point as when the client's process is killed ({@link #cutBefore}).
 */
public final class TcpProxy implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TcpProxy.class.getName());

    private final ServerSocket listener;
    private final String host;
    private final int targetPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile long delayMs;
    private volatile boolean silent;
    private volatile boolean closed;
    private final AtomicLong towardServer = new AtomicLong();
    private volatile long cutAfter = Long.MAX_VALUE;
    private volatile byte[] cutMarker = new byte[0];
    private volatile boolean cut;

    public TcpProxy(String host, int targetPort) throws IOException {
        this.host = host;
        this.targetPort = targetPort;
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread.ofVirtual().name("proxy-accept").start(this::accept);
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Every chunk, both ways, waits this long before it is passed on. */
    public void delay(long millis) {
        delayMs = millis;
    }

    /**
     * Silent: nothing is passed on; connections stay open and their reads wait. When lifted, the connections that were
     * silenced are cut (their data is lost, as on a network that dropped it) and new ones work.
     */
    public void silence(boolean on) {
        silent = on;
        if (!on) {
            sockets.forEach(TcpProxy::closeQuietly);
            sockets.clear();
        }
        LOG.info(() -> "proxy to " + host + ":" + targetPort + (on ? " silent" : " passing again"));
    }

    /**
     * Passes on chunks toward the server until the one after the first {@code passed} that hold {@code marker} (as
     * bytes, ISO-8859-1), which is not passed on: every connection is cut then, and new ones are refused until
     * {@link #heal}, as when the client's process is killed just before sending it. The server has everything sent
     * before and nothing after (the client sends its next chunk only once the server has answered the last).
     */
    public void cutBefore(String marker, long passed) {
        cut = false;
        towardServer.set(0);
        cutMarker = marker.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        cutAfter = passed;
    }

    /** @return whether the connections were cut since {@link #cutBefore} */
    public boolean wasCut() {
        return cut;
    }

    /** Passes everything again, on new connections. */
    public void heal() {
        cutAfter = Long.MAX_VALUE;
        cut = false;
    }

    private static boolean holds(byte[] chunk, int length, byte[] marker) {
        outer:
        for (int i = 0; i + marker.length <= length; i++) {
            for (int j = 0; j < marker.length; j++) {
                if (chunk[i + j] != marker[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private void cutAll() {
        cut = true;
        sockets.forEach(TcpProxy::closeQuietly);
        sockets.clear();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                if (cut) {
                    closeQuietly(client);
                    continue;
                }
                Socket server = new Socket();
                server.connect(new InetSocketAddress(host, targetPort), 5000);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                Thread.ofVirtual().start(() -> pump(client, server, true));
                Thread.ofVirtual().start(() -> pump(server, client, false));
            } catch (IOException e) {
                if (!closed) {
                    LOG.fine(() -> "proxy accept: " + e.getMessage());
                }
            }
        }
    }

    private void pump(Socket from, Socket to, boolean toServer) {
        byte[] buffer = new byte[16384];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                while (silent && !closed && !from.isClosed()) {
                    Thread.sleep(20);
                }
                if (from.isClosed()) {
                    break;
                }
                if (toServer && (cut || holds(buffer, n, cutMarker) && towardServer.incrementAndGet() > cutAfter)) {
                    cutAll();
                    break;
                }
                long d = delayMs;
                if (d > 0) {
                    Thread.sleep(d);
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // a side closed: close the other
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        sockets.forEach(TcpProxy::closeQuietly);
    }
}
