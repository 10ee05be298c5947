package cloud.dementia.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.InvalidKeySpecException;
import java.util.Base64;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

import cloud.dementia.db.store.ApiKeyStore;

/**
 * Generating and hashing secrets. API keys are 256-bit random values, so one SHA-256 is enough to store them;
 * passwords may be chosen by people, so they get PBKDF2 with a salt. Comparisons are constant-time.
 */
public final class Secrets {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int PBKDF2_ITERATIONS = 210_000;

    private Secrets() {
    }

    /** @return a new API key, {@code dmc_} and 43 URL-safe characters */
    public static String newApiKey() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return "dmc_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** @return what the console may show of a generated key: its prefix and first four random characters */
    public static String hint(String key) {
        return key.substring(0, 8) + "…";
    }

    /** @return a new console password, 20 URL-safe characters */
    public static String newPassword() {
        byte[] bytes = new byte[15];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** @return {@code sha256:<hex>} of the key: the one hash of every API key, stored or created ({@link ApiKeyStore#hash}) */
    public static String hashApiKey(String key) {
        return ApiKeyStore.hash(key);
    }

    /** @return whether the presented key hashes to the stored hash; constant time in the key's content */
    public static boolean apiKeyMatches(String presented, String storedHash) {
        byte[] a = hashApiKey(presented).getBytes(StandardCharsets.US_ASCII);
        byte[] b = storedHash.getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(a, b);
    }

    /** @return {@code pbkdf2-sha256$<iterations>$<salt>$<hash>} */
    public static String hashPassword(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        byte[] hash = pbkdf2(password, salt, PBKDF2_ITERATIONS);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return "pbkdf2-sha256$" + PBKDF2_ITERATIONS + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    /** @return whether the password matches the stored PBKDF2 hash (constant-time comparison) */
    public static boolean passwordMatches(String password, String stored) {
        String[] parts = stored.split("\\$");
        if (parts.length != 4 || !parts[0].equals("pbkdf2-sha256")) {
            return false;
        }
        int iterations = Integer.parseInt(parts[1]);
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] expected = Base64.getDecoder().decode(parts[3]);
        return MessageDigest.isEqual(expected, pbkdf2(password, salt, iterations));
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (NoSuchAlgorithmException | InvalidKeySpecException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is missing from this JDK", e);
        }
    }
}
