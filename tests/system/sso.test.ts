/** Single sign-on against oidc-provider on its defaults: the person's claims come from UserInfo. */
import { ssoSuite } from "@tdt/test-support/sso-suite";

ssoSuite("defaults");
