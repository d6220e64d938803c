package dev.keel.gateway;

/** {@link ChatCacheTest} with a real Redis behind the chat caches: exact entries from Redis behave as those in process. */
class ChatCacheOnRedisTest extends ChatCacheTest implements GatewayTestBase.OnRedis {}
