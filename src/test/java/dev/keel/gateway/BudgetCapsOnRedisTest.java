package dev.keel.gateway;

/** {@link BudgetCapsTest} with a real Redis behind budgets, cost caps and tokens per minute: the same statuses, messages, Retry-After and warnings as in process. */
class BudgetCapsOnRedisTest extends BudgetCapsTest implements GatewayTestBase.OnRedis {}
