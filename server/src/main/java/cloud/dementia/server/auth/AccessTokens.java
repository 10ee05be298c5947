package cloud.dementia.server.auth;

import java.io.Closeable;
import java.io.IOException;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;

/**
 * Checks OAuth access tokens (signed JWTs, RFC 9068) for this {@link ProtectedResource}, with Nimbus JOSE + JWT: the
 * signature against the issuer's keys ({@link IssuerKeys}), RS256 or ES256 only (never {@code none} or a shared
 * secret), {@code typ} {@code at+jwt} or {@code JWT} or none, {@code iss} exactly the issuer, an {@code aud} naming this
 * server, {@code sub}, {@code exp} in the future and {@code nbf} in the past, each within {@value #CLOCK_SKEW_S} s of
 * clock skew. The token's scopes become the caller's scope ({@link TokenScope}).
 */
public final class AccessTokens implements Closeable {

    /** What a presented token is. */
    public sealed interface Verdict {
    }

    /** A valid token: the request goes on as this caller. */
    public record Accepted(Caller caller) implements Verdict {
    }

    /** Not a valid token (401 {@code invalid_token}); the description says which check it failed. */
    public record Invalid(String description) implements Verdict {
    }

    /** A valid token without {@value TokenScope#READ} or {@value TokenScope#WRITE} (403 {@code insufficient_scope}). */
    public record NoScope(String description) implements Verdict {
    }

    /** The issuer's keys could not be had, so nothing can be said of the token (503: retry). */
    public record Unavailable(String description) implements Verdict {
    }

    static final int CLOCK_SKEW_S = 30;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);

    private final ProtectedResource resource;
    private final IssuerKeys keys;
    private final JWSVerificationKeySelector<SecurityContext> keySelector;
    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

    public AccessTokens(ProtectedResource resource) {
        this.resource = resource;
        this.keys = new IssuerKeys(resource.issuer(), resource.jwksUrl());
        this.keySelector = new JWSVerificationKeySelector<>(ALGORITHMS, keys);
        // RFC 9068 types access tokens `at+jwt`; many issuers still say `JWT` or nothing
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT, new JOSEObjectType("at+jwt"),
                new JOSEObjectType("application/at+jwt"), null));
        processor.setJWSKeySelector(keySelector);
        processor.setJWTClaimsSetVerifier(new Claims(resource));
    }

    /** @return the resource the tokens must be for */
    public ProtectedResource resource() {
        return resource;
    }

    /** @return what the presented bearer token is */
    public Verdict check(String token) {
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException e) {
            return new Invalid("the bearer token is neither an API key nor a JWT");
        }
        if (jwt instanceof PlainJWT) {
            return new Invalid("an unsigned token (alg none) is not accepted");
        }
        if (!(jwt instanceof SignedJWT signed)) {
            return new Invalid("an encrypted token is not accepted: send the signed JWT access token");
        }
        JWSHeader header = signed.getHeader();
        if (!ALGORITHMS.contains(header.getAlgorithm())) {
            return new Invalid("a token signed with " + header.getAlgorithm() + " is not accepted: RS256 or ES256 only");
        }
        JWTClaimsSet claims;
        try {
            // asked here first (the processor's own ask is then answered from the cache) to say plainly what is wrong
            if (keySelector.selectJWSKeys(header, null).isEmpty()) {
                return unknownKey(header);
            }
            claims = processor.process(signed, null);
        } catch (KeySourceException e) {
            return new Unavailable("the issuer's signing keys could not be fetched: " + e.getMessage());
        } catch (ExpiredJWTException e) {
            return new Invalid("the token has expired");
        } catch (BadJWSException e) {
            return new Invalid("the signature does not verify with the issuer's key" + kid(header));
        } catch (BadJOSEException e) {
            return new Invalid(e.getMessage());
        } catch (JOSEException e) {
            return new Invalid("the token could not be verified: " + e.getMessage());
        }
        List<String> granted = scopes(claims);
        return TokenScope.of(granted)
                .<Verdict>map(scope -> new Accepted(Caller.ofToken(claims.getSubject(), scope)))
                .orElseGet(() -> new NoScope("the token grants neither " + TokenScope.READ + " nor " + TokenScope.WRITE
                        + (granted.isEmpty() ? "" : " (it grants " + String.join(" ", granted) + ")")));
    }

    private static Invalid unknownKey(JWSHeader header) {
        return new Invalid("no signing key of the issuer matches the token" + kid(header));
    }

    private static String kid(JWSHeader header) {
        return header.getKeyID() == null ? "" : " (kid " + header.getKeyID() + ")";
    }

    /**
     * The token's scopes: RFC 9068's space-separated {@code scope} (the claim checks refuse any other form), or
     * {@code scp} (a list or a string) as some issuers send.
     */
    static List<String> scopes(JWTClaimsSet claims) {
        Object value = claims.getClaim("scope");
        if (value == null) {
            value = claims.getClaim("scp");
        }
        List<String> scopes = new ArrayList<>();
        if (value instanceof String s) {
            for (String one : s.trim().split("\\s+")) {
                if (!one.isEmpty()) {
                    scopes.add(one);
                }
            }
        } else if (value instanceof Collection<?> list) {
            list.forEach(one -> scopes.add(String.valueOf(one)));
        }
        return scopes;
    }

    @Override
    public void close() throws IOException {
        keys.close();
    }

    /** Nimbus' claim checks, with the issuer and audience checked first to say what a refused token named instead. */
    private static final class Claims extends DefaultJWTClaimsVerifier<SecurityContext> {

        private final String issuer;
        private final Set<String> audiences;

        Claims(ProtectedResource resource) {
            super(resource.audiences(), new JWTClaimsSet.Builder().issuer(resource.issuer()).build(), Set.of("sub", "exp"), null);
            this.issuer = resource.issuer();
            this.audiences = resource.audiences();
            setMaxClockSkew(CLOCK_SKEW_S);
        }

        @Override
        public void verify(JWTClaimsSet claims, SecurityContext context) throws BadJWTException {
            if (!issuer.equals(claims.getIssuer())) {
                throw new BadJWTException("the token was issued by " + claims.getIssuer() + ", not by " + issuer);
            }
            List<String> aud = claims.getAudience();
            if (aud.stream().noneMatch(audiences::contains)) {
                throw new BadJWTException("the token is for " + (aud.isEmpty() ? "no audience" : String.join(", ", aud))
                        + ", not for this server (" + String.join(" or ", new TreeSet<>(audiences)) + ")");
            }
            super.verify(claims, context);
            // the subject is the caller: it owns their sessions, so it must name someone, in text PostgreSQL can store
            String sub = claims.getSubject();
            if (sub.isBlank()) {
                throw new BadJWTException("the token's sub is empty: it must name the user");
            }
            if (sub.chars().anyMatch(Character::isISOControl)) {
                throw new BadJWTException("the token's sub holds a control character: a user name cannot contain one");
            }
            // RFC 9068: scope is one space-separated string; a list would be read in some way the issuer did not mean
            Object scope = claims.getClaim("scope");
            if (scope != null && !(scope instanceof String)) {
                throw new BadJWTException("the token's scope must be one space-separated string (RFC 9068), not "
                        + (scope instanceof java.util.Collection<?> ? "a list" : "a " + scope.getClass().getSimpleName()));
            }
        }
    }
}
