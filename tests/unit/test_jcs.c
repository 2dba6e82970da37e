/*
 * RFC 8785 JSON Canonicalization Scheme (include/probity/jcs.h), checked
 * against:
 *   - RFC 8785 itself: Appendix B (the IEEE 754 number samples), the
 *     section 3.2.2 sample and its section 3.2.4 UTF-8 bytes, and the
 *     section 3.2.3 sorting example;
 *   - the reference test data of github.com/cyberphone/json-canonicalization
 *     (the files of testdata/input and testdata/output, by the RFC's
 *     first author), values copied below;
 *   - V8's Number.prototype.toString (Node.js v20.20.2, String(x)) for the
 *     powers of two where the nearest p-digit decimal does not round-trip
 *     but the next one up does;
 *   - properties: for 100,000 random doubles the text reads back as the
 *     same double, and no decimal with fewer digits does.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/error.h"
#include "probity/jcs.h"
#include "t.h"
#include "vec.h"

#define PARSE_FLAGS \
	(JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | \
	 JSON_DECODE_ANY)

static double
from_bits(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof d);
	return d;
}

/* Encodes v (which it consumes) and compares with want[0..wlen). */
static void
check_value(const char *what, json_t *v, const char *want, size_t wlen)
{
	char *out = NULL;
	size_t len = 0;
	prb_err err;
	int rc = prb_jcs_encode(v, &out, &len, &err);
	CHECK(rc == 0, "%s: encode: %d %s", what, rc, rc ? err.msg : "");
	CHECK(rc == 0 && len == wlen && memcmp(out, want, wlen) == 0,
	      "%s: got %.*s want %.*s", what, (int)len, out ? out : "",
	      (int)wlen, want);
	free(out);
	json_decref(v);
}

/* Parses the JSON text in[0..n) as the callers of jcs.h do, then encodes. */
static void
check_canon(const char *what, const char *in, size_t n, const char *want,
            size_t wlen)
{
	json_error_t je;
	json_t *v = json_loadb(in, n, PARSE_FLAGS, &je);
	CHECK(v != NULL, "%s: parse: %s", what, je.text);
	if (v)
		check_value(what, v, want, wlen);
}
#define CANON(what, in, want) \
	check_canon(what, in, sizeof in - 1, want, sizeof want - 1)
#define VALUE(what, v, want) check_value(what, v, want, sizeof want - 1)

/* prb_jcs_encode fails with code, and leaves no output. */
static void
check_refused(const char *what, json_t *v, int code)
{
	char *out = (char *)"x";
	size_t len = 1;
	int rc = prb_jcs_encode(v, &out, &len, NULL);
	CHECK(rc == code && out == NULL && len == 0, "%s: rc %d want %d", what,
	      rc, code);
	json_decref(v);
}

/* ------------------------------------------------------------------ */
/* Numbers: known answers                                              */

typedef struct {
	uint64_t bits;
	const char *want; /* NULL: not a JSON number */
} number_kat;

/* RFC 8785 Appendix B, Table 1, every row. */
static const number_kat appendix_b[] = {
	{0x0000000000000000u, "0"},
	{0x8000000000000000u, "0"},
	{0x0000000000000001u, "5e-324"},
	{0x8000000000000001u, "-5e-324"},
	{0x7fefffffffffffffu, "1.7976931348623157e+308"},
	{0xffefffffffffffffu, "-1.7976931348623157e+308"},
	{0x4340000000000000u, "9007199254740992"},
	{0xc340000000000000u, "-9007199254740992"},
	{0x4430000000000000u, "295147905179352830000"},
	{0x7fffffffffffffffu, NULL}, /* NaN */
	{0x7ff0000000000000u, NULL}, /* Infinity */
	{0x44b52d02c7e14af5u, "9.999999999999997e+22"},
	{0x44b52d02c7e14af6u, "1e+23"},
	{0x44b52d02c7e14af7u, "1.0000000000000001e+23"},
	{0x444b1ae4d6e2ef4eu, "999999999999999700000"},
	{0x444b1ae4d6e2ef4fu, "999999999999999900000"},
	{0x444b1ae4d6e2ef50u, "1e+21"},
	{0x3eb0c6f7a0b5ed8cu, "9.999999999999997e-7"},
	{0x3eb0c6f7a0b5ed8du, "0.000001"},
	{0x41b3de4355555553u, "333333333.3333332"},
	{0x41b3de4355555554u, "333333333.33333325"},
	{0x41b3de4355555555u, "333333333.3333333"},
	{0x41b3de4355555556u, "333333333.3333334"},
	{0x41b3de4355555557u, "333333333.33333343"},
	{0xbecbf647612f3696u, "-0.0000033333333333333333"},
	{0x43143ff3c1cb0959u, "1424953923781206.2"}, /* round to even */
};

/* V8 (Node.js v20.20.2), String(x) for every power of two 2^e whose
 * nearest p-digit decimal falls below the round-trip interval, which is
 * narrower below than above: the shortest is the next one up. */
static const number_kat v8_powers_of_two[] = {
	{0x0060000000000000u, "7.120236347223045e-307"},
	{0x0100000000000000u, "7.291122019556398e-304"},
	{0x0420000000000000u, "8.209073602596753e-289"},
	{0x0660000000000000u, "5.641232424577593e-278"},
	{0x0d70000000000000u, "5.858190679279809e-244"},
	{0x0e80000000000000u, "7.678447687145631e-239"},
	{0x0eb0000000000000u, "6.142758149716505e-238"},
	{0x0f50000000000000u, "6.290184345309701e-235"},
	{0x13e0000000000000u, "5.940911144672375e-213"},
	{0x1480000000000000u, "6.083493012144512e-210"},
	{0x1690000000000000u, "5.225680706521042e-200"},
	{0x1730000000000000u, "5.351097043477547e-197"},
	{0x1da0000000000000u, "5.426657103235053e-166"},
	{0x2020000000000000u, "5.966672584960166e-154"},
	{0x20f0000000000000u, "4.887898181599368e-150"},
	{0x2160000000000000u, "6.256509672447191e-148"},
	{0x2800000000000000u, "5.075883674631299e-116"},
	{0x2910000000000000u, "6.653062250012736e-111"},
	{0x2d70000000000000u, "7.854549544476363e-90"},
	{0x3730000000000000u, "7.174648137343064e-43"},
	{0x39e0000000000000u, "6.310887241768095e-30"},
	{0x3b20000000000000u, "6.617444900424222e-24"},
	{0x3d30000000000000u, "5.684341886080802e-14"},
	{0x3e70000000000000u, "5.960464477539063e-8"},
	{0x4580000000000000u, "6.189700196426902e+26"},
	{0x4790000000000000u, "5.316911983139664e+36"},
	{0x4830000000000000u, "5.444517870735016e+39"},
	{0x4ab0000000000000u, "5.986310706507379e+51"},
	{0x4b50000000000000u, "6.129982163463556e+54"},
	{0x5120000000000000u, "6.070840288205404e+82"},
	{0x5300000000000000u, "6.518515124270356e+91"},
	{0x5580000000000000u, "7.167183174968974e+103"},
	{0x5790000000000000u, "6.156563468186638e+113"},
	{0x58d0000000000000u, "6.455624695217272e+119"},
	{0x5940000000000000u, "8.263199609878108e+121"},
	{0x5e00000000000000u, "6.243497100631985e+144"},
	{0x6150000000000000u, "5.623642243178996e+160"},
	{0x61f0000000000000u, "5.758609657015292e+163"},
	{0x6290000000000000u, "5.896816288783659e+166"},
	{0x63d0000000000000u, "6.183260036827614e+172"},
	{0x6510000000000000u, "6.483618076376552e+178"},
	{0x6c50000000000000u, "5.386379163185535e+213"},
	{0x7220000000000000u, "5.334411546303884e+241"},
	{0x75e0000000000000u, "6.150157786156811e+259"},
	{0x77f0000000000000u, "5.282945311356653e+269"},
	{0x7cf0000000000000u, "6.386688990511104e+293"},
};

static void
check_numbers(const char *what, const number_kat *t, size_t n)
{
	char name[64];
	for (size_t i = 0; i < n; i++) {
		double d = from_bits(t[i].bits);
		snprintf(name, sizeof name, "%s %016llx", what,
		         (unsigned long long)t[i].bits);
		if (!t[i].want) {
			/* jansson holds no NaN or infinity, so JCS never
			 * meets one. */
			json_t *v = json_real(d);
			CHECK(!isfinite(d) && v == NULL, "%s: jansson took it",
			      name);
			json_decref(v);
			continue;
		}
		check_value(name, json_real(d), t[i].want, strlen(t[i].want));
		CHECK(prb_jcs_number_exact(t[i].want, strlen(t[i].want)) == 1,
		      "%s: output not exact", name);
	}
}

static void
kat_numbers(void)
{
	check_numbers("appendix B", appendix_b,
	              sizeof appendix_b / sizeof appendix_b[0]);
	check_numbers("V8", v8_powers_of_two,
	              sizeof v8_powers_of_two / sizeof v8_powers_of_two[0]);
	/* Integers become the double ECMAScript would hold. */
	VALUE("int 2^53+1", json_integer(9007199254740993LL),
	      "9007199254740992");
	VALUE("int -42", json_integer(-42), "-42");
	VALUE("int max", json_integer(INT64_MAX), "9223372036854776000");
	VALUE("real -0", json_real(-0.0), "0");
	CANON("decimal -0.0", " -0.0e7 ", "0");
	CANON("big integer token", "123456789012345678901234567890",
	      "1.2345678901234568e+29");
	CANON("underflow", "[1e-400, 4.9e-324]", "[0,5e-324]");
	CANON("1e21 and below", "[1e21, 999999999999999999999, 1e20]",
	      "[1e+21,1e+21,100000000000000000000]");
	CANON("1e-6 and below", "[1e-6, 1e-7, 1.5e-7, 0.00000123]",
	      "[0.000001,1e-7,1.5e-7,0.00000123]");
}

/* ------------------------------------------------------------------ */
/* Whole documents                                                     */

/* RFC 8785 section 3.2.2 and, as bytes, section 3.2.4. */
static void
kat_rfc_sample(void)
{
	static const char in[] =
		"{\n"
		"  \"numbers\": [333333333.33333329, 1E30, 4.50,\n"
		"              2e-3, 0.000000000000000000000000001],\n"
		"  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c"
		"\\\\\\\"\\/\",\n"
		"  \"literals\": [null, true, false]\n"
		"}";
	/* Section 3.2.4, as the RFC lays the bytes out. */
	static const char *const hex[] = {
		"7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72",
		"75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a",
		"5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31",
		"65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37",
		"5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30",
		"30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d",
	};
	char digits[256];
	uint8_t want[128];
	size_t nd = 0, wlen = 0;
	for (size_t i = 0; i < sizeof hex / sizeof hex[0]; i++)
		for (const char *p = hex[i]; *p; p++)
			if (*p != ' ' && nd < sizeof digits - 1)
				digits[nd++] = *p;
	digits[nd] = '\0';
	CHECK(vec_hex(digits, want, sizeof want, &wlen) == 0, "hex");
	check_canon("RFC 8785 3.2.2", in, sizeof in - 1, (const char *)want,
	            wlen);
}

/* RFC 8785 section 3.2.3: names sorted by UTF-16 code units. */
static void
kat_rfc_sorting(void)
{
	CANON("RFC 8785 3.2.3",
	      "{\n"
	      "  \"\\u20ac\": \"Euro Sign\",\n"
	      "  \"\\r\": \"Carriage Return\",\n"
	      "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
	      "  \"1\": \"One\",\n"
	      "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
	      "  \"\\u0080\": \"Control\",\n"
	      "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
	      "}",
	      "{\"\\r\":\"Carriage Return\",\"1\":\"One\","
	      "\"\xc2\x80\":\"Control\","
	      "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
	      "\"\xe2\x82\xac\":\"Euro Sign\","
	      "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
	      "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* cyberphone/json-canonicalization testdata/input and testdata/output. */
static void
kat_cyberphone(void)
{
	CANON("arrays.json",
	      "[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n"
	      "    \"1\": [ ]\n  }\n]\n",
	      "[56,{\"1\":[],\"10\":null,\"d\":true}]");
	CANON("french.json",
	      "{\n  \"peach\": \"This sorting order\",\n"
	      "  \"p\xc3\xa9\x63h\xc3\xa9\": \"is wrong according to French\",\n"
	      "  \"p\xc3\xaa\x63he\": \"but canonicalization MUST\",\n"
	      "  \"sin\":   \"ignore locale\"\n}\n",
	      "{\"peach\":\"This sorting order\","
	      "\"p\xc3\xa9\x63h\xc3\xa9\":\"is wrong according to French\","
	      "\"p\xc3\xaa\x63he\":\"but canonicalization MUST\","
	      "\"sin\":\"ignore locale\"}");
	CANON("structures.json",
	      "{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n"
	      "  \"10\": { },\n  \"\": \"empty\",\n  \"a\": { },\n"
	      "  \"111\": [ {\"e\": \"yes\",\"E\": \"no\" } ],\n"
	      "  \"A\": { }\n}",
	      "{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},"
	      "\"10\":{},\"111\":[{\"E\":\"no\",\"e\":\"yes\"}],\"A\":{},"
	      "\"a\":{}}");
	CANON("unicode.json",
	      "{\n  \"Unnormalized Unicode\":\"A\\u030a\"\n}\n",
	      "{\"Unnormalized Unicode\":\"A\xcc\x8a\"}");
	CANON("weird.json",
	      "{\n  \"\\u20ac\": \"Euro Sign\",\n"
	      "  \"\\r\": \"Carriage Return\",\n"
	      "  \"\\u000a\": \"Newline\",\n  \"1\": \"One\",\n"
	      "  \"\\u0080\": \"Control\\u007f\",\n"
	      "  \"\\ud83d\\ude02\": \"Smiley\",\n"
	      "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\",\n"
	      "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
	      "  \"</script>\": \"Browser Challenge\"\n}\n",
	      "{\"\\n\":\"Newline\",\"\\r\":\"Carriage Return\",\"1\":\"One\","
	      "\"</script>\":\"Browser Challenge\","
	      "\"\xc2\x80\":\"Control\x7f\","
	      "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
	      "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x82\":\"Smiley\","
	      "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
	/* values.json is the RFC's section 3.2.2 sample. */
}

static void
kat_structure(void)
{
	CANON("whitespace", " [ 1 , { } , [ ] , \"\" , true , null ] ",
	      "[1,{},[],\"\",true,null]");
	CANON("scalar", "\"x\"", "\"x\"");
	CANON("nested sort", "{\"b\":[{\"d\":1,\"c\":2}],\"a\":{\"z\":{},\"y\":[]}}",
	      "{\"a\":{\"y\":[],\"z\":{}},\"b\":[{\"c\":2,\"d\":1}]}");
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */

static void
kat_escapes(void)
{
	static const char *const ctl[32] = {
		"\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004",
		"\\u0005", "\\u0006", "\\u0007", "\\b",     "\\t",
		"\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e",
		"\\u000f", "\\u0010", "\\u0011", "\\u0012", "\\u0013",
		"\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018",
		"\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d",
		"\\u001e", "\\u001f",
	};
	char in[3], want[16], name[32];
	for (int c = 0; c < 32; c++) {
		in[0] = 'a', in[1] = (char)c, in[2] = 'b';
		int n = snprintf(want, sizeof want, "\"a%sb\"", ctl[c]);
		snprintf(name, sizeof name, "control 0x%02x", c);
		check_value(name, json_stringn(in, 3), want, (size_t)n);
	}
	/* Written as is: DEL, "/", U+2028, U+2029, U+FEFF, non-BMP. */
#define LIT "\x7f/\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\xf0\x9f\x98\x80"
	VALUE("literal", json_string(LIT), "\"" LIT "\"");
#undef LIT
	VALUE("quote and backslash", json_string("\"\\\""),
	      "\"\\\"\\\\\\\"\"");
	CANON("escaped input", "\"\\u002f\\/\\u2028\\u00e9\\uD83D\\uDE00\"",
	      "\"//\xe2\x80\xa8\xc3\xa9\xf0\x9f\x98\x80\"");
}

static void
kat_nul(void)
{
	CANON("NUL in a string", "[\"a\\u0000b\", \"\\u0000\"]",
	      "[\"a\\u0000b\",\"\\u0000\"]");
	/* jansson's parser refuses NUL in names; its API takes them. */
	json_t *o = json_object();
	json_object_setn_new(o, "a\0b", 3, json_true());
	json_object_setn_new(o, "a", 1, json_false());
	json_object_setn_new(o, "a\x01", 2, json_null());
	VALUE("NUL in names", o,
	      "{\"a\":false,\"a\\u0000b\":true,\"a\\u0001\":null}");
}

/* Names whose UTF-16 order differs from their code points' order. */
static void
kat_sorting(void)
{
	CANON("surrogates",
	      "{\"\\uffff\":1,\"\\ud800\\udc00\":2,\"\\ue000\":3,"
	      "\"\\ud7ff\":4,\"\\ud83d\\ude01\":5,\"\\ud83d\\ude00\":6,"
	      "\"z\":7,\"\":8,\"\\ud83d\\ude00a\":9,\"\\udbff\\udfff\":10}",
	      "{\"\":8,\"z\":7,\"\xed\x9f\xbf\":4,\"\xf0\x90\x80\x80\":2,"
	      "\"\xf0\x9f\x98\x80\":6,\"\xf0\x9f\x98\x80" "a\":9,"
	      "\"\xf0\x9f\x98\x81\":5,\"\xf4\x8f\xbf\xbf\":10,"
	      "\"\xee\x80\x80\":3,\"\xef\xbf\xbf\":1}");
	CANON("prefixes", "{\"ab\":1,\"a\":2,\"aa\":3,\"\":4,\"b\":5}",
	      "{\"\":4,\"a\":2,\"aa\":3,\"ab\":1,\"b\":5}");
	CANON("two-byte vs three-byte",
	      "{\"\\u0800\":1,\"\\u07ff\":2,\"\\u0100\":3,\"\\u00ff\":4}",
	      "{\"\xc3\xbf\":4,\"\xc4\x80\":3,\"\xdf\xbf\":2,\"\xe0\xa0\x80\":1}");
}

/* Values jansson's parser would never build, through its _nocheck API. */
static void
kat_refused(void)
{
	static const char *const bad[] = {
		"\xff", "\xed\xa0\x80" /* U+D800 */, "\xc0\x80", "\xe2\x82",
		"a\xf4\x90\x80\x80" /* > U+10FFFF */,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		check_refused("bad UTF-8 string", json_string_nocheck(bad[i]),
		              PRB_EMALFORMED);
		json_t *o = json_object();
		json_object_set_new_nocheck(o, "ok", json_null());
		json_object_set_new_nocheck(o, bad[i], json_null());
		check_refused("bad UTF-8 name", o, PRB_EMALFORMED);
		json_t *a = json_pack("[i,[o]]", 1, json_string_nocheck(bad[i]));
		check_refused("bad UTF-8 deep", a, PRB_EMALFORMED);
	}
	check_refused("NULL", NULL, PRB_EINVAL);

	json_t *deep = json_array(), *inner = deep;
	for (int i = 0; i < PRB_JCS_MAX_DEPTH; i++) {
		json_t *a = json_array();
		json_array_append_new(inner, a);
		inner = a;
	}
	char *out = NULL;
	size_t len = 0;
	CHECK(prb_jcs_encode(deep, &out, &len, NULL) == 0 &&
	      len == 2 * (PRB_JCS_MAX_DEPTH + 1),
	      "%d levels", PRB_JCS_MAX_DEPTH + 1);
	free(out);
	json_array_append_new(inner, json_object());
	check_refused("too deep", deep, PRB_ETOOBIG);
}

/* ------------------------------------------------------------------ */
/* Exactness                                                           */

static void
kat_number_exact(void)
{
	static const struct {
		const char *tok;
		int want;
	} t[] = {
		{"0", 1}, {"-0", 1}, {"-0.0e5", 1}, {"0.000", 1}, {"0e400", 1},
		{"10", 1}, {"100", 1}, {"1E2", 1}, {"1e+2", 1}, {"1.5", 1},
		{"1.50", 1}, {"0.1", 1}, {"1e3", 1}, {"1e21", 1}, {"1e-7", 1},
		{"-1.5e-7", 1}, {"5e-324", 1}, {"0.30000000000000004", 1},
		{"1e0000000000000000000002", 1}, {"100000000000000000000000", 1},
		{"9007199254740992", 1}, {"1.7976931348623157e308", 1},
		{"333333333.3333333", 1}, {"0.0000010", 1},
		{"9007199254740993", 0}, {"1.00000000000000000001", 0},
		{"333333333.33333329", 0}, {"4.9e-324", 0}, {"1e400", 0},
		{"-1e400", 0}, {"1e-400", 0}, {"1.7976931348623159e308", 0},
		{"123456789012345678", 0}, {"1e99999999999999999999", 0},
		{"1e-99999999999999999999", 0}, {"0.1000000000000000055511", 0},
		{"", PRB_EMALFORMED}, {"-", PRB_EMALFORMED},
		{"01", PRB_EMALFORMED}, {"-01", PRB_EMALFORMED},
		{"1.", PRB_EMALFORMED}, {".1", PRB_EMALFORMED},
		{"1e", PRB_EMALFORMED}, {"1e+", PRB_EMALFORMED},
		{"+1", PRB_EMALFORMED}, {"1.5x", PRB_EMALFORMED},
		{" 1", PRB_EMALFORMED}, {"1 ", PRB_EMALFORMED},
		{"0x10", PRB_EMALFORMED}, {"--1", PRB_EMALFORMED},
		{"1.e5", PRB_EMALFORMED}, {"NaN", PRB_EMALFORMED},
		{"Infinity", PRB_EMALFORMED}, {"1e5.5", PRB_EMALFORMED},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int rc = prb_jcs_number_exact(t[i].tok, strlen(t[i].tok));
		CHECK(rc == t[i].want, "\"%s\": %d want %d", t[i].tok, rc,
		      t[i].want);
	}
	/* The length bounds the token: what follows is not read. */
	CHECK(prb_jcs_number_exact("15x", 2) == 1, "prefix");
}

static void
check_scan(const char *text, int want, size_t want_bad)
{
	size_t bad = SIZE_MAX;
	int rc = prb_jcs_numbers_exact(text, strlen(text), &bad);
	CHECK(rc == want && (want == 1 ? bad == SIZE_MAX : bad == want_bad),
	      "%s: %d at %zu, want %d at %zu", text, rc, bad, want, want_bad);
}

static void
kat_numbers_exact(void)
{
	check_scan("{\"a\":\"1.50e999 9007199254740993\","
	           "\"b\\\"9007199254740993\":[1,2.5,-0,1e2,true,false,null]}",
	           1, 0);
	check_scan("[true,false,null,0.1,9007199254740993]", 0, 21);
	check_scan("[\"\\\\\",9007199254740993]", 0, 6);
	check_scan("[\"\\\"9007199254740993\",1]", 1, 0);
	check_scan("{\"x\":1e400}", 0, 5);
	check_scan(" -0.0 ", 1, 0);
	check_scan("", 1, 0);
	check_scan("[1,2", 1, 0);
	check_scan("\"unterminated 1e400", 1, 0);
	check_scan("[1,01]", PRB_EMALFORMED, 3);
	CHECK(prb_jcs_numbers_exact("[1e400]", 7, NULL) == 0, "NULL bad");
}

/* ------------------------------------------------------------------ */
/* Properties                                                          */

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static int
reads_as(const char *t, double d)
{
	double r = strtod(t, NULL);
	return memcmp(&r, &d, sizeof d) == 0;
}

/* 1 if some decimal with k-1 significant digits reads back as d: the
 * nearest one, or either neighbour in the last place. Independent of
 * prb_jcs_encode's search. */
static int
shorter_reads_back(double d, int k)
{
	char t[64];
	if (k <= 1)
		return 0;
	snprintf(t, sizeof t, "%.*e", k - 2, fabs(d));
	long long m = 0;
	char *e = strchr(t, 'e');
	for (char *p = t; p < e; p++)
		if (*p >= '0' && *p <= '9')
			m = m * 10 + (*p - '0');
	int x = atoi(e + 1) - (k - 2);
	for (long long c = m - 1; c <= m + 1; c++) {
		snprintf(t, sizeof t, "%s%llde%d", d < 0 ? "-" : "", c, x);
		if (c > 0 && reads_as(t, d))
			return 1;
	}
	return 0;
}

/* The number of significant digits of the JCS number text t, and
 * ECMAScript's n for them: t's value is 0.digits * 10^n. */
static int
sig_digits(const char *t, int *n)
{
	char dig[64];
	int nd = 0, point = -1;
	const char *p = t + (*t == '-');
	for (; *p && *p != 'e' && nd < 64; p++) {
		if (*p == '.')
			point = nd;
		else
			dig[nd++] = *p;
	}
	if (point < 0)
		point = nd;
	int lead = 0, last = nd - 1;
	while (lead < last && dig[lead] == '0')
		lead++;
	while (last > lead && dig[last] == '0')
		last--;
	*n = point - lead + (*p == 'e' ? atoi(p + 1) : 0);
	return last - lead + 1;
}

/* Checks one finite double; returns 0 or a failure bit. */
static int
property(double d, char **first)
{
	char *out = NULL, t[64];
	size_t len = 0;
	int n, bad = 0;
	json_t *v = json_real(d);
	if (prb_jcs_encode(v, &out, &len, NULL) != 0 || len >= sizeof t) {
		json_decref(v);
		free(out);
		return 1;
	}
	memcpy(t, out, len);
	t[len] = '\0';
	int k = sig_digits(t, &n);
	if (!reads_as(t, d) && d != 0)
		bad |= 2;
	if (shorter_reads_back(d, k))
		bad |= 4;
	/* The exponent form exactly outside 1e-7 < |d| < 1e21. */
	if ((strchr(t, 'e') != NULL) != (n > 21 || n <= -6))
		bad |= 8;
	if (prb_jcs_number_exact(out, len) != 1)
		bad |= 16;
	if (bad && !*first)
		*first = strdup(t);
	json_decref(v);
	free(out);
	return bad;
}

static void
prop_random_doubles(void)
{
	uint64_t seed = 8785;
	int done = 0, failed = 0, why = 0;
	char *first = NULL;
	while (done < 100000) {
		double d = from_bits(splitmix64(&seed));
		if (!isfinite(d))
			continue;
		int b = property(d, &first);
		failed += b != 0;
		why |= b;
		done++;
	}
	CHECK(failed == 0, "%d of %d random doubles (why %#x, first %s)",
	      failed, done, why, first ? first : "");
	free(first);
}

static void
prop_powers_of_two(void)
{
	int failed = 0, why = 0;
	char *first = NULL;
	for (uint64_t e = 0; e < 2047; e++) {
		for (uint64_t s = 0; s < 2; s++) {
			int b = property(from_bits(s << 63 | e << 52), &first);
			failed += b != 0;
			why |= b;
		}
	}
	CHECK(failed == 0, "%d powers of two (why %#x, first %s)", failed, why,
	      first ? first : "");
	free(first);
}

int
main(void)
{
	kat_numbers();
	kat_rfc_sample();
	kat_rfc_sorting();
	kat_cyberphone();
	kat_structure();
	kat_escapes();
	kat_nul();
	kat_sorting();
	kat_refused();
	kat_number_exact();
	kat_numbers_exact();
	prop_random_doubles();
	prop_powers_of_two();
	return T_DONE("test_jcs");
}
