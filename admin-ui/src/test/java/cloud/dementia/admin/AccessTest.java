package cloud.dementia.admin;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AccessTest {

    @Test
    void afterLoginOnlyConsolePathsAreFollowed() {
        assertEquals("/admin/pools/acme", Access.safeNext("/admin/pools/acme"));
        assertEquals("/admin/audit?before=12", Access.safeNext("/admin/audit?before=12"));
        assertEquals("/admin", Access.safeNext("%2F%2Fevil.example"));
        assertEquals("/admin", Access.safeNext("/administrator"));
        assertEquals("/admin", Access.safeNext("/admin/x\r\nSet-Cookie: a=b"));
        assertEquals("/admin", Access.safeNext(null));
        assertEquals("/admin", Access.safeNext("https://evil.example/admin"));
        assertEquals("/admin", Access.safeNext("//evil.example/admin"));
        assertEquals("/admin", Access.safeNext("/admin//evil.example"));
        assertEquals("/admin", Access.safeNext("/admin/\\evil"));
        assertEquals("/admin", Access.safeNext("/admin/login"));
        assertEquals("/admin", Access.safeNext("/admin/api/pools"));
        assertEquals("/admin", Access.safeNext("/metrics"));
    }

    @Test
    void ipv6AddressesAreShownShort() {
        assertEquals("::1", Access.shortIpv6("0:0:0:0:0:0:0:1"));
        assertEquals("fe80::1:2:3:4%eth0", Access.shortIpv6("fe80:0:0:0:1:2:3:4%eth0"));
        assertEquals("2001:db8::1", Access.shortIpv6("2001:db8:0:0:0:0:0:1"));
        assertEquals("1::", Access.shortIpv6("1:0:0:0:0:0:0:0"));
        assertEquals("1:0:2:3:4:5:6:7", Access.shortIpv6("1:0:2:3:4:5:6:7"));
    }

    @Test
    void formAndJsonFieldsAreReadAlikeAndBadNumbersAreNamed() {
        Fields form = Fields.form("max=8&minIdle=1&_csrf=a%2Bb");
        assertEquals(8, form.wholeNumber("max"));
        assertEquals("a+b", form.text("_csrf").orElseThrow());
        Fields json = Fields.json("{\"max\": 8, \"minIdle\": \"1\"}");
        assertEquals(1, json.wholeNumber("minIdle"));
        assertEquals("max must be a whole number, got `abc`",
                assertThrows(IllegalArgumentException.class, () -> Fields.form("max=abc").wholeNumber("max")).getMessage());
        assertEquals("max must be a whole number, got `2.5`",
                assertThrows(IllegalArgumentException.class, () -> Fields.json("{\"max\": 2.5}").wholeNumber("max")).getMessage());
        assertEquals("max is required: a whole number",
                assertThrows(IllegalArgumentException.class, () -> Fields.form("").wholeNumber("max")).getMessage());
        assertEquals("the request body must be a JSON object, like {\"max\": 8}",
                assertThrows(IllegalArgumentException.class, () -> Fields.json("[1]")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Fields.json("{max"));
    }
}
