/* Outbound HTTP's URL handling (apps/http_client.h): absolute URLs split into scheme, host and
 * port (the scheme's port by default, IPv6 literals), and allowed_outbound_hosts matching:
 * exact, default ports, subdomain and "*" wildcards; refusals. */
#include "harness.h"

#include "apps/http_client.h"

TEST(url_split) {
    char scheme[16], host[256];
    int port;
    const char *path;
    ASSERT_TRUE(wb_url_split("http://example.com/a?b", scheme, host, &port, &path));
    ASSERT_STR_EQ(scheme, "http");
    ASSERT_STR_EQ(host, "example.com");
    ASSERT_EQ(port, 80);
    ASSERT_STR_EQ(path, "/a?b");
    ASSERT_TRUE(wb_url_split("HTTPS://h:8443", scheme, host, &port, &path));
    ASSERT_STR_EQ(scheme, "https");
    ASSERT_EQ(port, 8443);
    ASSERT_STR_EQ(path, "/");
    ASSERT_TRUE(wb_url_split("http://[::1]:8001/x", scheme, host, &port, &path));
    ASSERT_STR_EQ(host, "::1");
    ASSERT_EQ(port, 8001);
    ASSERT_TRUE(!wb_url_split("not-a-url", scheme, host, &port, &path));
    ASSERT_TRUE(!wb_url_split("http:///x", scheme, host, &port, &path));
    ASSERT_TRUE(!wb_url_split("http://h:99999/", scheme, host, &port, &path));
    ASSERT_TRUE(!wb_url_split("http://h:8x/", scheme, host, &port, &path));
}

TEST(url_allowed) {
    char *allowed[] = {"http://127.0.0.1:8081", "https://example.com", "https://*.svc.local",
                       "redis://cache:6379"};
    ASSERT_TRUE(wb_url_allowed("http://127.0.0.1:8081/data", allowed, 4));
    ASSERT_TRUE(!wb_url_allowed("http://127.0.0.1:8082/data", allowed, 4));
    ASSERT_TRUE(!wb_url_allowed("https://127.0.0.1:8081/data", allowed, 4));
    ASSERT_TRUE(wb_url_allowed("https://example.com/", allowed, 4));
    ASSERT_TRUE(wb_url_allowed("https://example.com:443/", allowed, 4));
    ASSERT_TRUE(!wb_url_allowed("https://example.com:8443/", allowed, 4));
    ASSERT_TRUE(!wb_url_allowed("http://example.com/", allowed, 4));
    ASSERT_TRUE(wb_url_allowed("https://a.svc.local/", allowed, 4));
    ASSERT_TRUE(!wb_url_allowed("https://svc.local/", allowed, 4));
    ASSERT_TRUE(!wb_url_allowed("https://evilsvc.local/", allowed, 4));
    ASSERT_TRUE(!wb_url_allowed("not a url", allowed, 4));
    char *all[] = {"*://*:*"};
    ASSERT_TRUE(wb_url_allowed("http://anything:1234/", all, 1));
    ASSERT_TRUE(!wb_url_allowed("http://x/", allowed, 0));
}
