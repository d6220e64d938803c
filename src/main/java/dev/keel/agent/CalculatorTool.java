package dev.keel.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.config.AgentConfig;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The built-in {@code calculator}: evaluates one arithmetic expression ({@code + - * / % ^}, parentheses, unary
 * minus, {@code sqrt abs round min max log exp}, constants {@code pi} and {@code e}) with a hand-written parser, no
 * script engine. Numbers are decimal ({@link BigDecimal}, 34 significant digits while computing, results rounded to
 * 16), so money-like sums come out as written ({@code 0.1 + 0.2} is {@code 0.3}); {@code log}, {@code exp} and
 * non-integer powers go through {@code double}. {@code ^} binds tighter than unary minus ({@code -2^2} is -4) and
 * associates to the right. Expressions are bounded in length and nesting; division by zero, results beyond
 * ±1e308 (what a double holds), and unknown names are failures that say where. Stateless and thread-safe.
 */
final class CalculatorTool implements Tool {
    static final String NAME = "calculator";
    /** Longest expression: arithmetic a model writes is short; this bounds parsing work. */
    static final int MAX_CHARS = 1_000;
    /** Deepest nesting of parentheses, functions and signs: keeps the recursive parser far from the stack limit. */
    static final int MAX_DEPTH = 64;
    private static final MathContext WORKING = MathContext.DECIMAL128;
    /** Results are rounded to a double's precision, so 1/3*3 reads 1 rather than 0.999…9. */
    private static final MathContext RESULT = MathContext.DECIMAL64;
    /** Anything larger is reported as overflow: a double (and so most JSON readers) could not hold it. */
    private static final BigDecimal MAX_MAGNITUDE = new BigDecimal(Double.MAX_VALUE);
    /** Longest exponent in a literal such as 1e308: a longer one is over the limit anyway. */
    private static final int MAX_EXPONENT_DIGITS = 4;
    /** Integer powers beyond this are computed as doubles, whose range check reports overflow. */
    private static final int MAX_EXACT_POWER = 9_999;
    /** The largest plain integer printed without an exponent (as JavaScript prints numbers). */
    private static final int MAX_PLAIN_DIGITS = 21;
    private static final List<String> FUNCTIONS = List.of("sqrt", "abs", "round", "min", "max", "log", "exp");

    private final ToolSpec spec;

    CalculatorTool() {
        ObjectNode parameters = JsonNodeFactory.instance.objectNode().put("type", "object").put("additionalProperties", false);
        parameters.putObject("properties").putObject("expression").put("type", "string").put("maxLength", MAX_CHARS)
                .put("description", "e.g. (389 + 42.50) * 1.2 or sqrt(2) ^ 2; functions: " + String.join(", ", FUNCTIONS) + "; constants pi, e");
        parameters.putArray("required").add("expression");
        this.spec = new ToolSpec(NAME, "Evaluates an arithmetic expression exactly (decimal numbers) and returns the result.",
                parameters, null, AgentConfig.SideEffect.READ, true, Duration.ofSeconds(1), Set.of());
    }

    @Override
    public ToolSpec spec() {
        return spec;
    }

    @Override
    public ToolOutcome call(JsonNode arguments, ToolInvocation invocation) {
        String expression = arguments.path("expression").asText("");
        try {
            BigDecimal result = evaluate(expression);
            return ToolOutcome.success(JsonNodeFactory.instance.objectNode().put("expression", expression).put("result", result));
        } catch (CalculationException e) {
            return ToolOutcome.failure(e.getMessage());
        }
    }

    /** The value of {@code expression}, rounded to 16 significant digits; fails with a message naming the problem. */
    static BigDecimal evaluate(String expression) throws CalculationException {
        if (expression.length() > MAX_CHARS) throw new CalculationException("the expression is longer than " + MAX_CHARS + " characters");
        if (expression.isBlank()) throw new CalculationException("the expression is empty");
        Parser parser = new Parser(expression);
        BigDecimal value;
        try {
            value = parser.expression(0);
        } catch (ArithmeticException e) {
            throw new CalculationException("cannot compute this exactly: " + e.getMessage());
        }
        parser.skipSpaces();
        if (parser.pos < expression.length()) throw parser.error("unexpected '" + expression.charAt(parser.pos) + "'");
        BigDecimal rounded = value.round(RESULT).stripTrailingZeros();
        if (rounded.signum() == 0) return BigDecimal.ZERO;
        return rounded.scale() < 0 && rounded.precision() - rounded.scale() <= MAX_PLAIN_DIGITS ? rounded.setScale(0) : rounded;
    }

    /** A failure to evaluate: the message is for the model and says what and where. */
    static final class CalculationException extends Exception {
        CalculationException(String message) {
            super(message);
        }
    }

    /** Recursive descent over the grammar expression := term (+|- term)*, term := unary (*|/|% unary)*, unary := -unary | power, power := primary (^ unary)?. */
    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        BigDecimal expression(int depth) throws CalculationException {
            BigDecimal value = term(depth);
            while (true) {
                if (eat('+')) value = checked(value.add(term(depth), WORKING));
                else if (eat('-')) value = checked(value.subtract(term(depth), WORKING));
                else return value;
            }
        }

        private BigDecimal term(int depth) throws CalculationException {
            BigDecimal value = unary(depth);
            while (true) {
                int at = pos;
                if (eat('*')) {
                    value = checked(value.multiply(unary(depth), WORKING));
                } else if (eat('/')) {
                    BigDecimal divisor = unary(depth);
                    if (divisor.signum() == 0) throw errorAt(at, "division by zero");
                    value = checked(value.divide(divisor, WORKING));
                } else if (eat('%')) {
                    BigDecimal divisor = unary(depth);
                    if (divisor.signum() == 0) throw errorAt(at, "division by zero (in %)");
                    value = value.remainder(divisor, WORKING);
                } else {
                    return value;
                }
            }
        }

        private BigDecimal unary(int depth) throws CalculationException {
            if (depth > MAX_DEPTH) throw error("the expression nests deeper than " + MAX_DEPTH + " levels");
            if (eat('-')) return unary(depth + 1).negate();
            if (eat('+')) return unary(depth + 1);
            BigDecimal base = primary(depth);
            int at = pos;
            if (!eat('^')) return base;
            return power(base, unary(depth + 1), at);
        }

        private BigDecimal primary(int depth) throws CalculationException {
            skipSpaces();
            if (pos >= text.length()) throw error("the expression ends where a number was expected");
            char c = text.charAt(pos);
            if (c == '(') {
                pos++;
                BigDecimal value = expression(depth + 1);
                if (!eat(')')) throw error("missing ')'");
                return value;
            }
            if (Character.isDigit(c) || c == '.') return number();
            if (Character.isLetter(c)) return name(depth);
            throw error("unexpected '" + c + "'");
        }

        private BigDecimal number() throws CalculationException {
            int start = pos;
            while (pos < text.length() && (Character.isDigit(text.charAt(pos)) || text.charAt(pos) == '.')) pos++;
            if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
                int mark = pos++;
                if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
                int digits = pos;
                while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
                if (pos == digits) pos = mark;
                else if (pos - digits > MAX_EXPONENT_DIGITS) throw errorAt(start, "overflow: the number is too large or too small");
            }
            try {
                return checked(new BigDecimal(text.substring(start, pos)));
            } catch (NumberFormatException e) {
                throw errorAt(start, "'" + text.substring(start, pos) + "' is not a number");
            }
        }

        private BigDecimal name(int depth) throws CalculationException {
            int start = pos;
            while (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) pos++;
            String name = text.substring(start, pos);
            switch (name) {
                case "pi" -> {
                    return new BigDecimal(Math.PI);
                }
                case "e" -> {
                    return new BigDecimal(Math.E);
                }
                default -> { }
            }
            if (!FUNCTIONS.contains(name)) {
                throw errorAt(start, "unknown name '" + name + "' (functions: " + String.join(", ", FUNCTIONS) + "; constants: pi, e)");
            }
            if (!eat('(')) throw errorAt(start, name + " needs arguments in parentheses, e.g. " + name + "(2)");
            List<BigDecimal> args = new ArrayList<>();
            if (!eat(')')) {
                do {
                    args.add(expression(depth + 1));
                } while (eat(','));
                if (!eat(')')) throw error("missing ')' after the arguments of " + name);
            }
            return apply(name, args, start);
        }

        private BigDecimal apply(String name, List<BigDecimal> args, int at) throws CalculationException {
            int arity = args.size();
            boolean ok = switch (name) {
                case "min", "max" -> arity >= 1;
                case "round", "log" -> arity == 1 || arity == 2;
                default -> arity == 1;
            };
            if (!ok) throw errorAt(at, name + " does not take " + arity + " argument" + (arity == 1 ? "" : "s"));
            BigDecimal x = args.getFirst();
            return switch (name) {
                case "sqrt" -> {
                    if (x.signum() < 0) throw errorAt(at, "square root of a negative number");
                    yield x.sqrt(WORKING);
                }
                case "abs" -> x.abs();
                case "round" -> {
                    int digits = arity == 1 ? 0 : args.get(1).intValue();
                    if (digits < -MAX_PLAIN_DIGITS || digits > MAX_PLAIN_DIGITS) throw errorAt(at, "round keeps between -21 and 21 decimal places");
                    yield x.setScale(digits, RoundingMode.HALF_UP);
                }
                case "min" -> args.stream().reduce(BigDecimal::min).orElseThrow();
                case "max" -> args.stream().reduce(BigDecimal::max).orElseThrow();
                case "log" -> {
                    if (x.signum() <= 0) throw errorAt(at, "logarithm of a number that is not positive");
                    double ln = Math.log(x.doubleValue());
                    if (arity == 2) {
                        BigDecimal base = args.get(1);
                        if (base.signum() <= 0 || base.compareTo(BigDecimal.ONE) == 0) throw errorAt(at, "a logarithm's base must be positive and not 1");
                        ln /= Math.log(base.doubleValue());
                    }
                    yield fromDouble(ln, at);
                }
                default -> fromDouble(Math.exp(x.doubleValue()), at);
            };
        }

        private BigDecimal power(BigDecimal base, BigDecimal exponent, int at) throws CalculationException {
            boolean integer = exponent.signum() == 0 || exponent.stripTrailingZeros().scale() <= 0;
            if (integer && exponent.abs().compareTo(BigDecimal.valueOf(MAX_EXACT_POWER)) <= 0) {
                int n = exponent.intValueExact();
                if (base.signum() == 0 && n < 0) throw errorAt(at, "division by zero (0 to a negative power)");
                try {
                    return checked(base.pow(n, WORKING), at);
                } catch (ArithmeticException e) {
                    throw errorAt(at, "overflow: the result is beyond ±1e308");
                }
            }
            if (!integer && base.signum() < 0) throw errorAt(at, "a negative number to a fractional power is not a real number");
            return fromDouble(Math.pow(base.doubleValue(), exponent.doubleValue()), at);
        }

        private BigDecimal fromDouble(double value, int at) throws CalculationException {
            if (Double.isNaN(value)) throw errorAt(at, "the result is not a real number");
            if (Double.isInfinite(value)) throw errorAt(at, "overflow: the result is beyond ±1e308");
            return new BigDecimal(value);
        }

        private BigDecimal checked(BigDecimal value) throws CalculationException {
            return checked(value, pos);
        }

        private BigDecimal checked(BigDecimal value, int at) throws CalculationException {
            if (value.abs().compareTo(MAX_MAGNITUDE) > 0) throw errorAt(at, "overflow: the result is beyond ±1e308");
            return value;
        }

        private boolean eat(char c) {
            skipSpaces();
            if (pos < text.length() && text.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        void skipSpaces() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
        }

        CalculationException error(String message) {
            return errorAt(pos, message);
        }

        private CalculationException errorAt(int at, String message) {
            return new CalculationException(message + " (at position " + (at + 1) + ")");
        }
    }
}
