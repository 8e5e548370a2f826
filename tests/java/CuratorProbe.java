// Apache Curator's own x-discovery client, driven by tests/test_curator_interop.py.
//
// Usage: java CuratorProbe CONNECT_STRING   (a chrooted one works: "127.0.0.1:2181/t1")
//
// Reads one command per line on stdin and answers with one line per result on
// stdout, "TAG JSON". Lines from a service cache's listener come whenever the
// cache changes, so every line is written whole under one lock.
//
//   query BASE SERVICE map|void|string  -> INSTANCES [instance, ...]  (ServiceDiscovery<Map|Void|String>)
//   cache BASE SERVICE                  -> CACHE [instance, ...] now, and again at each cacheChanged()
//   register BASE {spec}                -> REGISTERED {"path": ..., "data": ...}  (Curator writes it;
//                                          a spec with "enabled" uses the serializer mode that
//                                          writes it, one without uses Curator's default mode)
//   quit                                -> exits after closing everything
//
// A failing command answers ERROR {"type": ..., "message": ...} and the probe
// goes on. "READY {}" is written once the client is connected.

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceInstanceBuilder;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.apache.curator.framework.state.ConnectionState;

public final class CuratorProbe {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<AutoCloseable> OPEN = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        CuratorFramework client =
                CuratorFrameworkFactory.newClient(args[0], 30000, 10000, new RetryOneTime(500));
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            emit("ERROR", error(new IllegalStateException("not connected to " + args[0])));
            System.exit(2);
        }
        emit("READY", new LinkedHashMap<>());
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split(" ", 2);
            if (words[0].isEmpty()) {
                continue;
            }
            if (words[0].equals("quit")) {
                break;
            }
            try {
                run(client, words);
            } catch (Exception e) {
                emit("ERROR", error(e));
            }
        }
        for (int i = OPEN.size() - 1; i >= 0; i--) {
            OPEN.get(i).close();
        }
        client.close();
        System.exit(0);
    }

    private static void run(CuratorFramework client, String[] words) throws Exception {
        String rest = words.length > 1 ? words[1] : "";
        String[] args;
        switch (words[0]) {
            case "query":
                args = rest.split(" ", 3);
                query(client, args[0], args[1], args[2]);
                break;
            case "cache":
                args = rest.split(" ", 2);
                cache(client, args[0], args[1]);
                break;
            case "register":
                args = rest.split(" ", 2);
                register(client, args[0], args[1]);
                break;
            default:
                throw new IllegalArgumentException("unknown command " + words[0]);
        }
    }

    /** Every instance of a service, read by a ServiceDiscovery typed for the given payload. */
    private static void query(CuratorFramework client, String base, String service, String type)
            throws Exception {
        Class<?> payloadClass;
        switch (type) {
            case "map":
                payloadClass = Map.class;
                break;
            case "void":
                payloadClass = Void.class;
                break;
            case "string":
                payloadClass = String.class;
                break;
            default:
                throw new IllegalArgumentException("unknown payload type " + type);
        }
        emit("INSTANCES", describeAll(queryTyped(client, base, service, payloadClass)));
    }

    private static <T> List<ServiceInstance<T>> queryTyped(
            CuratorFramework client, String base, String service, Class<T> payloadClass)
            throws Exception {
        try (ServiceDiscovery<T> discovery = discovery(client, base, payloadClass, true)) {
            discovery.start();
            return new ArrayList<>(discovery.queryForInstances(service));
        }
    }

    /** A live ServiceCache: its instance list now and after every change it reports. */
    private static void cache(CuratorFramework client, String base, String service)
            throws Exception {
        ServiceDiscovery<Map> discovery = discovery(client, base, Map.class, true);
        discovery.start();
        OPEN.add(discovery);
        ServiceCache<Map> cache = discovery.serviceCacheBuilder().name(service).build();
        cache.addListener(
                new ServiceCacheListener() {
                    @Override
                    public void cacheChanged() {
                        emit("CACHE", describeAll(cache.getInstances()));
                    }

                    @Override
                    public void stateChanged(CuratorFramework c, ConnectionState state) {}
                });
        cache.start();
        OPEN.add(cache);
        emit("CACHE", describeAll(cache.getInstances()));
    }

    /** Registers an instance the way a Curator service would. */
    @SuppressWarnings("unchecked")
    private static void register(CuratorFramework client, String base, String specText)
            throws Exception {
        Map<String, Object> spec = JSON.readValue(specText, Map.class);
        ServiceInstanceBuilder<Map> builder = ServiceInstance.<Map>builder();
        builder.name((String) spec.get("name"));
        builder.address((String) spec.get("address"));
        if (spec.get("id") != null) {
            builder.id((String) spec.get("id"));
        }
        if (spec.get("port") != null) {
            builder.port((Integer) spec.get("port"));
        }
        if (spec.get("sslPort") != null) {
            builder.sslPort((Integer) spec.get("sslPort"));
        }
        if (spec.get("uriSpec") != null) {
            builder.uriSpec(new UriSpec((String) spec.get("uriSpec")));
        }
        if (spec.get("enabled") != null) {
            builder.enabled((Boolean) spec.get("enabled"));
        }
        builder.payload((Map) spec.get("payload"));
        builder.serviceType(ServiceType.DYNAMIC);
        ServiceInstance<Map> instance = builder.build();
        // compatibleSerializationMode=false is the mode that writes `enabled`; true, the
        // default of JsonInstanceSerializer(Class), leaves it out
        boolean compatible = !spec.containsKey("enabled");
        ServiceDiscovery<Map> discovery = discovery(client, base, Map.class, compatible);
        discovery.start();
        discovery.registerService(instance);
        OPEN.add(discovery);
        String path = base + "/" + instance.getName() + "/" + instance.getId();
        byte[] data = client.getData().forPath(path);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("path", path);
        out.put("data", new String(data, StandardCharsets.UTF_8));
        emit("REGISTERED", out);
    }

    private static <T> ServiceDiscovery<T> discovery(
            CuratorFramework client, String base, Class<T> payloadClass, boolean compatible) {
        return ServiceDiscoveryBuilder.builder(payloadClass)
                .client(client)
                .basePath(base)
                .serializer(new JsonInstanceSerializer<>(payloadClass, compatible))
                .watchInstances(false)
                .build();
    }

    /** An instance field by field, as Curator's getters give it. */
    private static Map<String, Object> describe(ServiceInstance<?> instance) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", instance.getName());
        out.put("id", instance.getId());
        out.put("address", instance.getAddress());
        out.put("port", instance.getPort());
        out.put("sslPort", instance.getSslPort());
        Object payload = instance.getPayload();
        out.put("payload", payload);
        out.put("payloadClass", payload == null ? null : payload.getClass().getName());
        out.put("registrationTimeUTC", instance.getRegistrationTimeUTC());
        out.put("serviceType", String.valueOf(instance.getServiceType()));
        UriSpec spec = instance.getUriSpec();
        if (spec == null) {
            out.put("uriSpec", null);
            out.put("uri", null);
        } else {
            List<Map<String, Object>> parts = new ArrayList<>();
            for (UriSpec.Part part : spec) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("value", part.getValue());
                p.put("variable", part.isVariable());
                parts.add(p);
            }
            out.put("uriSpec", parts);
            out.put("uri", instance.buildUriSpec());
        }
        out.put("enabled", instance.isEnabled());
        return out;
    }

    private static <T> List<Map<String, Object>> describeAll(List<ServiceInstance<T>> instances) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ServiceInstance<T> instance : instances) {
            out.add(describe(instance));
        }
        return out;
    }

    private static Map<String, Object> error(Exception e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", e.getClass().getName());
        out.put("message", String.valueOf(e.getMessage()));
        out.put("root", root.getClass().getName());
        return out;
    }

    private static synchronized void emit(String tag, Object value) {
        try {
            System.out.println(tag + " " + JSON.writeValueAsString(value));
        } catch (Exception e) {
            System.out.println("ERROR {\"type\":\"" + e.getClass().getName() + "\"}");
        }
        System.out.flush();
    }
}
