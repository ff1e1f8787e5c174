// Starts DynamoDB Local listening on one address only.
//
// Why: DynamoDB Local 3.x has no host flag; its ServerRunner builds a Jetty
// `new Server(port)`, which listens on every interface. Tests and local runs
// must listen on 127.0.0.1 only, so this launcher builds the server the same
// way, sets the host on its Jetty connector, then starts it.
//
// Usage (classpath = DynamoDBLocal.jar plus this class's folder):
//   java -Djava.library.path=<dir>/DynamoDBLocal_lib \
//        -cp <dir>/DynamoDBLocal.jar:<classes> LoopbackDynamoDBLocal \
//        <host> <DynamoDB Local options...>
//
// Compiled by infra/scripts/ensure-tools.sh; tied to the pinned jar (it reads
// the private field `server` of DynamoDBProxyServer), so it fails loudly
// rather than fall back to listening everywhere.

import java.io.IOException;
import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    private LoopbackDynamoDBLocal() {}

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: LoopbackDynamoDBLocal <host> [DynamoDB Local options...]");
            System.exit(2);
        }
        try {
            run(args[0], Arrays.copyOfRange(args, 1, args.length));
        } catch (Throwable e) {
            // Exit instead of leaving a half-started JVM behind. A port taken
            // meanwhile is expected now and then: say so without a stack trace.
            System.err.println("LoopbackDynamoDBLocal: failed to start: " + e);
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                System.err.println("  caused by: " + cause);
            }
            if (!(e instanceof IOException)) {
                e.printStackTrace();
            }
            System.exit(1);
        }
    }

    private static void run(String host, String[] options) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(options);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);

        int connectors = 0;
        for (Connector connector : server.getConnectors()) {
            if (!(connector instanceof ServerConnector)) {
                throw new IllegalStateException("unexpected connector " + connector);
            }
            ((ServerConnector) connector).setHost(host);
            connectors++;
        }
        if (connectors == 0) {
            throw new IllegalStateException("DynamoDB Local has no connector to bind to " + host);
        }

        // DynamoDBProxyServer.start() catches some start-up errors itself (it
        // prints them and stops Jetty), so check the outcome too.
        proxy.start();
        for (Connector connector : server.getConnectors()) {
            int port = ((ServerConnector) connector).getLocalPort();
            if (!server.isStarted() || port <= 0) {
                throw new IllegalStateException("DynamoDB Local did not start on " + host);
            }
            System.out.println("DynamoDB Local listening on " + host + ":" + port);
        }
        proxy.join();
    }
}
