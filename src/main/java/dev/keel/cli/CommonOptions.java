package dev.keel.cli;

import dev.keel.Keel;
import dev.keel.config.KeelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command takes: data directory, tenant and config file. */
final class CommonOptions {
    @Option(names = "--data", paramLabel = "DIR", description = "Data directory (default: $KEEL_DATA, else ~/.keel).")
    Path data;

    @Option(names = "--tenant", paramLabel = "T", defaultValue = Keel.DEFAULT_TENANT, description = "Tenant (default: ${DEFAULT-VALUE}).")
    String tenant;

    @Option(names = "--config", paramLabel = "FILE", description = "keel.yaml (default: ./keel.yaml if present).")
    Path config;

    Path dataDir() {
        if (data != null) return data;
        String env = System.getenv("KEEL_DATA");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".keel");
    }

    KeelConfig loadConfig() {
        if (config != null) return KeelConfig.load(config);
        Path local = Path.of("keel.yaml");
        return Files.isRegularFile(local) ? KeelConfig.load(local) : KeelConfig.parse("", System::getenv);
    }

    Keel open() {
        return open(loadConfig());
    }

    Keel open(KeelConfig config) {
        checkTenant();
        return Keel.open(config, dataDir());
    }

    /** Refuses a {@code --tenant} that is not 1-64 letters, digits, '.', '_' or '-', as tenants are named everywhere. */
    void checkTenant() {
        if (!tenant.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("--tenant must be 1-64 letters, digits, '.', '_' or '-'");
        }
    }
}
