package dev.keel.gateway;

/** {@link KeysAndLimitsTest} with a real Redis behind keys, rate limits and budgets: the same behaviour as in process. */
class KeysAndLimitsOnRedisTest extends KeysAndLimitsTest implements GatewayTestBase.OnRedis {}
