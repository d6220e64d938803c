package dev.keel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.keel.engines.Await;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ThrottledWarningTest {
    private static final Duration INTERVAL = Duration.ofMillis(200);

    @Test
    void logsTheFirstAtOnceThenAtMostOncePerIntervalWithTheCountSinceTheLastLine() {
        Logger logger = (Logger) LoggerFactory.getLogger("throttled-warning-test");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        ThrottledWarning warning = new ThrottledWarning(logger, "upstream {} failed", INTERVAL);
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) warning.warn("x" + i);
        assertThat(log.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).asString().startsWith("upstream x0 failed (1 time(s)");
        Await.until(Duration.ofSeconds(5), "the interval to pass", () -> System.nanoTime() - start > INTERVAL.toNanos());
        warning.warn("last");
        assertThat(log.list).hasSize(2);
        assertThat(log.list.get(1).getFormattedMessage()).startsWith("upstream last failed (100 time(s) since this was last logged");
    }
}
