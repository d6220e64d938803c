package dev.keel.guard;

import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds secrets (type SECRET): provider keys and tokens by their documented shapes (AWS access key
 * ids, GitHub, GitLab, Slack, Stripe, OpenAI, Anthropic and Google keys, JWTs), PEM private key
 * blocks (the whole block), the password of a URL ({@code scheme://user:password@host}), the value
 * of a {@code password|secret|token|api_key…} assignment, an HTTP {@code Bearer}/{@code Basic}
 * credential, and a 40-character AWS secret access key next to a word naming it.
 *
 * <p>A high-entropy string alone is not reported: git SHAs, UUIDs, hashes and base64 data look just
 * as random and are far more common in prompts than stray keys without a prefix or a name. A value
 * must look like a credential where one is assigned: at least {@link #MIN_VALUE} characters, a
 * letter and a digit or symbol, and no placeholders ({@code ${VAR}}, {@code <password>},
 * {@code ****}, {@code changeme}-style words) nor code ({@code getenv(...)}).
 *
 * <p>Every pattern starts only at a token boundary and uses bounded possessive quantifiers, so each
 * is linear in the text.
 */
final class SecretFinder implements PiiScanner.Finder {
    /** The shortest assigned value taken for a credential; shorter ones are flags, counts and words. */
    private static final int MIN_VALUE = 8;
    /** Below this many bits per character an assigned value is a word or a repeated pattern, not a key. */
    private static final double MIN_ENTROPY = 2.5;
    /** Generated tokens carry about 4 bits per character (62 symbols); below 3 a token is mostly words ({@code Bearer my-session-cookie}). */
    private static final double MIN_TOKEN_ENTROPY = 3.0;
    /** How far before a bare 40-character string "aws" or "secret" must appear for it to be an AWS secret key. */
    private static final int AWS_CONTEXT = 80;
    /** An unterminated PEM block is taken to the end of its base64 body, at most this far. */
    private static final int MAX_PEM = 65_536;

    /**
     * One secret shape: the pattern, the group that is the secret, a check on its value, and lower-case words of which the text
     * must contain one for the pattern to be worth running (a substring search is far cheaper than a regex scan).
     */
    private record Rule(List<String> hints, Pattern pattern, int group, Predicate<String> accept) {}

    private static final String B = "(?<![A-Za-z0-9_-])";   // starts a token
    private static final String E = "(?![A-Za-z0-9_-])";    // ends a token
    private static final List<String> ASSIGNMENT_HINTS = List.of("pass", "pwd", "secret", "token", "key", "credential");

    private static final List<Rule> RULES = List.of(
            rule(List.of("akia", "asia", "abia", "acca", "agpa", "aida", "aipa", "anpa", "anva", "aroa", "apka"),
                    B + "(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}" + E),
            rule(List.of("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), B + "gh[pousr]_[A-Za-z0-9]{36,251}+" + E),
            rule(List.of("github_pat_"), B + "github_pat_[A-Za-z0-9_]{22,244}+" + E),
            rule(List.of("glpat-"), B + "glpat-[A-Za-z0-9_-]{20,255}+" + E),
            rule(List.of("xox"), B + "xox[abprse]-[A-Za-z0-9-]{10,255}+" + E),
            rule(List.of("hooks.slack.com"), "https://hooks\\.slack\\.com/(?:services|workflows)/[A-Za-z0-9_/-]{20,255}+"),
            rule(List.of("k_live_", "k_test_"), B + "[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}+" + E),
            new Rule(List.of("sk-"), Pattern.compile(B + "sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,255}+" + E), 0,
                    SecretFinder::randomLooking),
            rule(List.of("aiza"), B + "AIza[0-9A-Za-z_-]{35}" + E),
            rule(List.of("eyj"), B + "eyJ[A-Za-z0-9_-]{8,8192}+\\.[A-Za-z0-9_-]{8,65536}+\\.[A-Za-z0-9_-]{0,8192}+" + E),
            new Rule(List.of("://"), Pattern.compile("(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,19}+://[^\\s:@/?#]{0,128}+:([^\\s@/?#]{1,256}+)@"),
                    1, SecretFinder::notPlaceholder),
            new Rule(ASSIGNMENT_HINTS, Pattern.compile("(?:(?<![A-Za-z0-9])|(?<=[a-z])(?=[A-Z]))(?i:pass(?:word|wd|phrase)?|pwd|secret|token|"
                    + "api[_-]?key|apikey|access[_-]?key|auth[_-]?token|credentials?|private[_-]?key|client[_-]?secret|secret[_-]?key)"
                    + "(?:[_.-][A-Za-z0-9_.-]{0,31}+)?[\"']?\\s{0,4}+(?::=|=>|[:=]|(?<=\\s)(?i:is|was)\\s)\\s{0,4}+[\"'`]?"
                    + "([^\\s\"'`,;<>(){}\\[\\]]{1,256}+)"), 1, SecretFinder::credentialLike),
            new Rule(List.of("bearer", "basic"), Pattern.compile("(?i)(?<![A-Za-z0-9])(?:bearer|basic)\\s{1,4}+([A-Za-z0-9._~+/-]{16,4096}+=*+)"), 1,
                    SecretFinder::randomLooking));

    private static final Pattern AWS_SECRET = Pattern.compile("(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])");
    private static final Pattern AWS_CONTEXT_WORD = Pattern.compile("(?i)aws|secret");
    private static final Pattern PEM_BEGIN = Pattern.compile("-----BEGIN ((?:[A-Z0-9]{1,16} ){0,3}PRIVATE KEY(?: BLOCK)?)-----");
    private static final Pattern PLACEHOLDER = Pattern.compile(
            "(?i)(?:[$%<{*]|x{3,}|\\.{3,}).*|.*[>}]|(?:your|example|sample|dummy|fake)[_-].*|"
                    + "pass(?:word)?|passwd|pwd|secret|token|changeme|redacted|hidden|none|null|undefined|true|false");

    private static Rule rule(List<String> hints, String regex) {
        return new Rule(hints, Pattern.compile(regex), 0, SecretFinder::notRepetitive);
    }

    @Override
    public void find(String text, List<PiiEntity> out) {
        String lower = text.toLowerCase(Locale.ROOT); // only searched for hints: its indices are never used
        for (Rule r : RULES) {
            if (r.hints.stream().noneMatch(lower::contains)) continue;
            Matcher m = r.pattern.matcher(text);
            while (m.find()) {
                if (r.accept.test(m.group(r.group))) out.add(new PiiEntity("SECRET", m.start(r.group), m.end(r.group)));
            }
        }
        Matcher m = AWS_SECRET.matcher(lower.contains("aws") || lower.contains("secret") ? text : "");
        while (m.find()) {
            if (mixedCase(m.group()) && AWS_CONTEXT_WORD.matcher(text).region(Math.max(0, m.start() - AWS_CONTEXT), m.start()).find()) {
                out.add(new PiiEntity("SECRET", m.start(), m.end()));
            }
        }
        if (lower.contains("-----begin")) findPem(text, out);
    }

    private static void findPem(String text, List<PiiEntity> out) {
        Matcher m = PEM_BEGIN.matcher(text);
        int from = 0;
        while (m.find(from)) {
            String endMarker = "-----END " + m.group(1) + "-----";
            int end = text.indexOf(endMarker, m.end());
            if (end >= 0 && end - m.end() <= MAX_PEM) {
                end += endMarker.length();
            } else {
                end = m.end();
                while (end < text.length() && end - m.end() < MAX_PEM && isPemBody(text.charAt(end))) end++;
            }
            out.add(new PiiEntity("SECRET", m.start(), end));
            from = end;
        }
    }

    /** Base64, line breaks and the {@code Proc-Type: 4,ENCRYPTED} headers of a PEM body. */
    private static boolean isPemBody(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || "+/=\r\n\t :,-".indexOf(c) >= 0;
    }

    /** An assigned value that is a credential rather than a word, a number, a placeholder or code. */
    static boolean credentialLike(String value) {
        if (value.length() < MIN_VALUE || !notPlaceholder(value)) return false;
        boolean letter = false, digitOrSymbol = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isLetter(c)) letter = true;
            else if (c != '_' && c != '.' && c != '-') digitOrSymbol = true;
        }
        return letter && digitOrSymbol && entropy(value) >= MIN_ENTROPY;
    }

    /** A token with letters and digits and enough entropy to be generated rather than written. */
    private static boolean randomLooking(String token) {
        boolean letter = false, digit = false;
        for (int i = 0; i < token.length(); i++) {
            letter |= Character.isLetter(token.charAt(i));
            digit |= Character.isDigit(token.charAt(i));
        }
        return letter && digit && entropy(token) >= MIN_TOKEN_ENTROPY;
    }

    private static boolean notPlaceholder(String value) {
        return !PLACEHOLDER.matcher(value).matches() && value.chars().distinct().count() > 1;
    }

    /** Not a documentation placeholder such as {@code glpat-xxxxxxxxxxxxxxxxxxxx}: no character fills half the token. */
    private static boolean notRepetitive(String token) {
        int[] counts = new int[128];
        int max = 0;
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < 128) max = Math.max(max, ++counts[c]);
        }
        return max * 2 < token.length();
    }

    private static boolean mixedCase(String s) {
        return !s.equals(s.toLowerCase(Locale.ROOT)) && !s.equals(s.toUpperCase(Locale.ROOT));
    }

    /** Shannon entropy of the characters of {@code s}, in bits per character. */
    static double entropy(String s) {
        int[] counts = new int[128];
        int other = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 128) counts[c]++;
            else other++;
        }
        double bits = 0;
        for (int c : counts) bits += term(c, s.length());
        return bits + term(other, s.length());
    }

    private static double term(int count, int length) {
        if (count == 0) return 0;
        double p = (double) count / length;
        return -p * Math.log(p) / Math.log(2);
    }
}
