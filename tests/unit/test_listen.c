/* prb_httpd_parse_listen: every form --listen takes (issue 17), parsed
 * without binding anything. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "probity/http.h"
#include "t.h"

/* Parses arg; on success prints the address as "ADDR PORT" into out. */
static int
parse(const char *arg, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len;
	prb_err err;
	prb_err_clear(&err);
	int rc = prb_httpd_parse_listen(arg, &ss, &len, &err);
	if (rc) {
		snprintf(out, cap, "error: %s", err.msg);
		return rc;
	}
	char a[INET6_ADDRSTRLEN];
	unsigned port;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		port = ntohs(s4->sin_port);
		CHECK(len == sizeof *s4, "%s: length %u", arg, (unsigned)len);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		port = ntohs(s6->sin6_port);
		CHECK(len == sizeof *s6, "%s: length %u", arg, (unsigned)len);
	}
	snprintf(out, cap, "%s %u", a, port);
	return 0;
}

static void
expect(const char *arg, const char *want)
{
	char got[600];
	int rc = parse(arg, got, sizeof got);
	CHECK(rc == 0 && strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"",
	      arg, got, want);
}

static void
refused(const char *arg)
{
	char got[600];
	int rc = parse(arg, got, sizeof got);
	CHECK(rc == PRB_EINVAL, "%s: got \"%s\", want an error", arg, got);
}

int
main(void)
{
	expect("127.0.0.1:8080", "127.0.0.1 8080");
	expect("127.0.0.1:0", "127.0.0.1 0");
	expect("[::1]:443", "::1 443");
	expect("::1:443", "::1 443"); /* as before: the last colon splits */
	expect(":8080", "0.0.0.0 8080");
	expect(":0", "0.0.0.0 0");
	/* "localhost" resolves through /etc/hosts; IPv4 first */
	char got[600];
	if (parse("localhost:9", got, sizeof got) == 0)
		CHECK(strcmp(got, "127.0.0.1 9") == 0 ||
		      strcmp(got, "::1 9") == 0, "localhost:9: got %s", got);
	else
		SKIP("localhost does not resolve here: %s", got);
	refused("127.0.0.1");
	refused("127.0.0.1:");
	refused("127.0.0.1:65536");
	refused("127.0.0.1:-1");
	refused("127.0.0.1:+1");
	refused("127.0.0.1:80x");
	refused(":");
	refused("[]:80");
	refused("[::1]80");
	refused("[localhost]:80"); /* brackets hold an IPv6 address only */
	refused("no-such-host.invalid:80");
	return T_DONE("test_listen");
}
