package dev.keel.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class CalculatorToolTest {
    private final CalculatorTool calculator = new CalculatorTool();

    private static String value(String expression) throws CalculatorTool.CalculationException {
        return CalculatorTool.evaluate(expression).toString();
    }

    private static void fails(String expression, String message) {
        assertThatThrownBy(() -> CalculatorTool.evaluate(expression)).isInstanceOf(CalculatorTool.CalculationException.class).hasMessageContaining(message);
    }

    @Test
    void moneyLikeSumsComeOutAsWritten() throws Exception {
        assertThat(value("0.1 + 0.2")).isEqualTo("0.3");
        assertThat(value("389 + 42.50")).isEqualTo("431.5");
        assertThat(value("19.99 * 3")).isEqualTo("59.97");
        assertThat(value("1/3*3")).isEqualTo("1");
        assertThat(value("1000 * 1000")).isEqualTo("1000000");
    }

    @Test
    void precedenceAssociativityAndUnaryMinusFollowMathematics() throws Exception {
        assertThat(value("2 + 3 * 4")).isEqualTo("14");
        assertThat(value("(2 + 3) * 4")).isEqualTo("20");
        assertThat(value("2 ^ 3 ^ 2")).isEqualTo("512");
        assertThat(value("-2 ^ 2")).isEqualTo("-4");
        assertThat(value("(-2) ^ 2")).isEqualTo("4");
        assertThat(value("2 ^ -1")).isEqualTo("0.5");
        assertThat(value("--3")).isEqualTo("3");
        assertThat(value("10 - 4 - 3")).isEqualTo("3");
        assertThat(value("17 % 5")).isEqualTo("2");
        assertThat(value("1.5e3 + 1")).isEqualTo("1501");
    }

    @Test
    void functionsAndConstants() throws Exception {
        assertThat(value("sqrt(16)")).isEqualTo("4");
        assertThat(value("sqrt(2) ^ 2")).isEqualTo("2");
        assertThat(value("abs(-7.5)")).isEqualTo("7.5");
        assertThat(value("round(2.5)")).isEqualTo("3");
        assertThat(value("round(3.14159, 2)")).isEqualTo("3.14");
        assertThat(value("min(4, -1, 7)")).isEqualTo("-1");
        assertThat(value("max(4, -1, 7)")).isEqualTo("7");
        assertThat(value("log(exp(2))")).isEqualTo("2");
        assertThat(value("log(1000, 10)")).isEqualTo("3");
        assertThat(value("round(pi, 4)")).isEqualTo("3.1416");
        assertThat(value("2 ^ 0.5")).isEqualTo("1.414213562373095");
    }

    @Test
    void divisionByZeroIsNamedWithItsPosition() {
        fails("1 / 0", "division by zero (at position 3)");
        fails("5 % (2 - 2)", "division by zero");
        fails("0 ^ -1", "division by zero");
    }

    @Test
    void resultsBeyondWhatADoubleHoldsAreOverflow() {
        fails("1e308 * 10", "overflow");
        fails("10 ^ 400", "overflow");
        fails("10 ^ 99999999999", "overflow");
        fails("exp(1000)", "overflow");
        fails("1e99999", "overflow");
    }

    @Test
    void unknownNamesAndMalformedInputSayWhatIsWrong() {
        fails("2 * foo", "unknown name 'foo'");
        fails("System.exit(0)", "unknown name 'System'");
        fails("sqrt(-1)", "square root of a negative number");
        fails("log(0)", "not positive");
        fails("(-8) ^ 0.5", "not a real number");
        fails("(1 + 2", "missing ')'");
        fails("1 +", "a number was expected");
        fails("1 2", "unexpected '2'");
        fails("sqrt", "needs arguments");
        fails("sqrt(1, 2)", "does not take 2 arguments");
        fails("1..2", "not a number");
        fails("", "empty");
    }

    @Test
    void lengthAndNestingAreBounded() throws Exception {
        fails("1+".repeat(600) + "1", "longer than 1000");
        fails("(".repeat(100) + "1" + ")".repeat(100), "nests deeper than 64");
        fails("-".repeat(200) + "1", "nests deeper than 64");
        assertThat(CalculatorTool.evaluate("(".repeat(30) + "1" + ")".repeat(30))).isEqualTo(BigDecimal.ONE);
    }

    @Test
    void toolReturnsTheExpressionAndItsResultOrAReadableFailure() {
        JsonNode args = JsonNodeFactory.instance.objectNode().put("expression", "(389 + 42.50) * 1.2");
        ToolOutcome ok = calculator.call(args, null);
        assertThat(ok).isInstanceOf(ToolOutcome.Success.class);
        assertThat(((ToolOutcome.Success) ok).value().toString()).isEqualTo("{\"expression\":\"(389 + 42.50) * 1.2\",\"result\":517.8}");
        ToolOutcome bad = calculator.call(JsonNodeFactory.instance.objectNode().put("expression", "1/0"), null);
        assertThat(bad).isEqualTo(new ToolOutcome.Failure("division by zero (at position 2)", false));
        assertThat(calculator.spec().sideEffect()).isEqualTo(dev.keel.config.AgentConfig.SideEffect.READ);
    }
}
