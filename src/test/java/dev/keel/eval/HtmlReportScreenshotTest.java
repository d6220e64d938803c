package dev.keel.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reports as a person sees them: Debian's headless chromium renders each page to a PNG (kept under
 * {@code target/eval-report-screenshots/} to look at), which must have the window's size and real content. Skipped
 * without chromium, unless {@code CI=true}, where that is a failure ({@code .ci/run} installs it).
 */
class HtmlReportScreenshotTest {
    private static final int WIDTH = 1200, HEIGHT = 1600;
    /** A rendered report has text, bars and coloured cells: far more colours (anti-aliasing included) than a blank or error page. */
    private static final int MIN_COLOURS = 64;
    /** Share of pixels that differ from the page background: a page with its charts and tables covers well over this. */
    private static final double MIN_INK = 0.05;
    private static final long RENDER_TIMEOUT_SECONDS = 120;
    private static final Path OUT = Path.of("target/eval-report-screenshots");

    @TempDir
    Path tmp;

    private static String chromium() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                if (Files.isExecutable(Path.of(dir, name))) return Path.of(dir, name).toString();
            }
        }
        String why = "chromium is not installed (apt-get install chromium)";
        if ("true".equals(System.getenv("CI"))) throw new IllegalStateException(why);
        Assumptions.abort(why);
        return null;
    }

    private BufferedImage screenshot(String html, String name) throws Exception {
        String browser = chromium();
        Path page = tmp.resolve(name + ".html"), png = OUT.toAbsolutePath().resolve(name + ".png");
        Files.writeString(page, html);
        Files.createDirectories(OUT);
        Files.deleteIfExists(png);
        Process p = new ProcessBuilder(browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + tmp.resolve("profile-" + name),
                "--screenshot=" + png, "--window-size=" + WIDTH + "," + HEIGHT, "--virtual-time-budget=2000", page.toUri().toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve(name + ".log").toFile()).start();
        if (!p.waitFor(RENDER_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not render " + name + " within " + RENDER_TIMEOUT_SECONDS + " s");
        }
        assertThat(png).as("chromium's log: %s", Files.readString(tmp.resolve(name + ".log"))).exists();
        return ImageIO.read(png.toFile());
    }

    private static void assertLooksLikeAPage(BufferedImage image) {
        assertThat(image.getWidth()).isEqualTo(WIDTH);
        assertThat(image.getHeight()).isEqualTo(HEIGHT);
        Set<Integer> colours = new HashSet<>();
        int background = image.getRGB(2, 2), ink = 0;
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                int rgb = image.getRGB(x, y);
                colours.add(rgb);
                if (rgb != background) ink++;
            }
        }
        assertThat(colours.size()).as("distinct colours").isGreaterThanOrEqualTo(MIN_COLOURS);
        assertThat(ink / (image.getWidth() * image.getHeight() / 4.0)).as("share of pixels that are not background").isGreaterThan(MIN_INK);
    }

    /** True when some sampled pixel is close to {@code rgb}: the verdict colours must actually reach the screen. */
    private static boolean hasColour(BufferedImage image, int rgb) {
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                int c = image.getRGB(x, y) & 0xFFFFFF;
                if (Math.abs((c >> 16) - (rgb >> 16)) < 6 && Math.abs(((c >> 8) & 0xFF) - ((rgb >> 8) & 0xFF)) < 6 && Math.abs((c & 0xFF) - (rgb & 0xFF)) < 6) return true;
            }
        }
        return false;
    }

    @Test
    void aFailedComparisonRendersWithItsRedBannerAndCharts() throws Exception {
        BufferedImage image = screenshot(HtmlReport.comparison(HtmlReportTest.evilComparison()), "comparison");
        assertLooksLikeAPage(image);
        assertThat(hasColour(image, 0xFFEBE9)).as("the failed gate's banner background").isTrue();
        assertThat(hasColour(image, 0x0969DA)).as("candidate bars").isTrue();
    }

    @Test
    void aSingleRunRenders() throws Exception {
        BufferedImage image = screenshot(HtmlReport.run(EvalRunFixtures.golden("run", 7)), "run");
        assertLooksLikeAPage(image);
        assertThat(hasColour(image, 0x0969DA)).as("metric bars").isTrue();
    }
}
