/** Single sign-on against a provider shaped like Keycloak's defaults: the claims in the ID token, `sid`, back-channel logout. */
import { ssoSuite } from "@tdt/test-support/sso-suite";

ssoSuite("keycloak");
