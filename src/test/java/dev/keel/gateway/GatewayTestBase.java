package dev.keel.gateway;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** One {@link GatewayFixture} per test class, its fakes and breakers reset before each test. */
abstract class GatewayTestBase {
    static GatewayFixture fixture;

    @BeforeAll
    static void startFixture() throws Exception {
        fixture = new GatewayFixture();
    }

    @AfterAll
    static void stopFixture() {
        fixture.close();
    }

    @BeforeEach
    void resetFixture() {
        fixture.reset();
    }
}
