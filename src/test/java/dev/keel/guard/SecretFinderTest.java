package dev.keel.guard;

import static dev.keel.guard.PiiScannerTest.found;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretFinderTest {
    @Test
    void awsAccessKeyIdsAndSecretKeysNextToTheirName() {
        assertThat(found("AKIAIOSFODNN7EXAMPLE ASIAY34FZKBOKMUTVV7A aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
                .containsExactly("SECRET:AKIAIOSFODNN7EXAMPLE", "SECRET:ASIAY34FZKBOKMUTVV7A", "SECRET:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    @Test
    void aFortyCharacterStringWithoutAnAwsOrSecretWordIsNotAKey() {
        assertThat(found("the blob wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY was uploaded")).isEmpty();
    }

    @Test
    void githubAndGitlabTokens() {
        assertThat(found("ghp_16C7e42F292c6912E7710c838347Ae178B4a gho_16C7e42F292c6912E7710c838347Ae178B4a "
                + "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345 glpat-8fK2mQ9xLp3RtZ7vW1yN"))
                .containsExactly("SECRET:ghp_16C7e42F292c6912E7710c838347Ae178B4a", "SECRET:gho_16C7e42F292c6912E7710c838347Ae178B4a",
                        "SECRET:github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
                        "SECRET:glpat-8fK2mQ9xLp3RtZ7vW1yN");
    }

    @Test
    void slackTokensAndWebhookUrls() {
        assertThat(found("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx at https://hooks.slack.com/services/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"))
                .containsExactly("SECRET:xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
                        "SECRET:https://hooks.slack.com/services/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");
    }

    @Test
    void stripeOpenAiAnthropicAndGoogleKeys() {
        assertThat(found("sk_live_4eC39HqLyjWDarjtT1zdp7dc rk_live_51H8abcDEF123ghiJKL456 sk-proj-abc123DEF456ghi789JKL012mno345 "
                + "sk-ant-api03-AbCdEf123456GhIjKl789012MnOpQr AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"))
                .containsExactly("SECRET:sk_live_4eC39HqLyjWDarjtT1zdp7dc", "SECRET:rk_live_51H8abcDEF123ghiJKL456",
                        "SECRET:sk-proj-abc123DEF456ghi789JKL012mno345", "SECRET:sk-ant-api03-AbCdEf123456GhIjKl789012MnOpQr",
                        "SECRET:AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q");
    }

    @Test
    void jsonWebTokens() {
        String jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assertThat(found("cookie=" + jwt + ";")).containsExactly("SECRET:" + jwt);
    }

    @Test
    void aPemPrivateKeyIsOneEntityFromBeginToEnd() {
        String pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----";
        assertThat(found("key:\n" + pem + "\nthanks")).containsExactly("SECRET:" + pem);
    }

    @Test
    void anUnterminatedPemBlockRunsToTheEndOfItsBody() {
        assertThat(found("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n")).containsExactly(
                "SECRET:-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n");
    }

    @Test
    void thePasswordOfAUrlButNotItsPlaceholderOrPort() {
        assertThat(found("postgres://admin:S3cr3tPass!@db.example.com:5432/app, https://user:password@example.com, https://example.com:8080/x"))
                .containsExactly("SECRET:S3cr3tPass!");
    }

    @Test
    void assignedCredentialsInEnvJsonYamlAndProse() {
        assertThat(found("DB_PASSWORD=Xk9#mP2$vL7q\n\"apiKey\": \"a8f3k2j9d0s7g6h5\"\nclient_secret: 7fG2kL9pQ4xZ\nsecretKey = \"Zx81ab!!cdK9\"\n"
                + "my password is Tr0ub4dor&3"))
                .containsExactly("SECRET:Xk9#mP2$vL7q", "SECRET:a8f3k2j9d0s7g6h5", "SECRET:7fG2kL9pQ4xZ", "SECRET:Zx81ab!!cdK9",
                        "SECRET:Tr0ub4dor&3");
    }

    @Test
    void assignmentsOfWordsNumbersPlaceholdersOrCodeAreNotSecrets() {
        assertThat(found("token=None password = getPassword() max_tokens=100000 api_key: ${OPENAI_API_KEY} password: <your password> "
                + "secret: xxxxxxxx token_type: bearer_token the secret is that we won passport: X1234567 password: changeme")).isEmpty();
    }

    @Test
    void bearerAndBasicCredentials() {
        assertThat(found("Authorization: Bearer abcDEF123ghiJKL456mnoPQR789\nAuthorization: Basic dXNlcjpwYXNzd29yZDEyMw=="))
                .containsExactly("SECRET:abcDEF123ghiJKL456mnoPQR789", "SECRET:dXNlcjpwYXNzd29yZDEyMw==");
    }

    @Test
    void documentationPlaceholdersAndLibraryNamesAreNotKeys() {
        assertThat(found("glpat-xxxxxxxxxxxxxxxxxxxx sk-xxxxxxxxxxxxxxxxxxxxxxxx sk-learn-is-a-library Authorization: Bearer <token> "
                + "Bearer YOUR_API_KEY_HERE")).isEmpty();
    }

    @Test
    void standaloneHighEntropyStringsAreNotSecrets() {
        assertThat(found("9fceb02d0ae598e95dc970b74767f19372d61af8 123e4567-e89b-12d3-a456-426614174000 "
                + "dGhpcyBpcyBqdXN0IGJhc2U2NCBkYXRhIGluIGEgcHJvbXB0 Qm9vayBvZiBTdHJpbmdz")).isEmpty();
    }
}
