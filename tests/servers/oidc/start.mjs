// A certified OpenID provider (the npm package oidc-provider, see package.json) on 127.0.0.1,
// for the tests of "sign in with OpenID Connect" (tests/support_oidc.py starts it). Run by the
// system Node:
//
//   OIDC_PORT=0 OIDC_CLIENT_ID=reinventons OIDC_CLIENT_SECRET=... \
//     OIDC_REDIRECT_URIS=http://testserver/account/oidc/test/callback node tests/servers/oidc/start.mjs
//
// One confidential client (client_secret_basic) that must use PKCE with S256, the redirect URIs
// given (comma-separated), and two accounts: "alice" (e-mail verified) and "bruno" (e-mail not
// verified). The login is oidc-provider's development interaction (a form taking any password:
// the test drives it with httpx); consent is granted without a page (loadExistingGrant) for the
// scopes openid, email and profile. OIDC_JWKS (optional): the provider's signing keys, a JSON
// JWK set with private parts, so that a test can also sign tokens as this provider. Prints `ready http://127.0.0.1:PORT` once it listens and
// stops on SIGTERM or SIGINT.
import http from 'node:http'
import Provider from 'oidc-provider'

const ACCOUNTS = {
  alice: { email: 'alice@example.org', email_verified: true, name: 'Alice Lambert', given_name: 'Alice' },
  bruno: { email: 'bruno@example.org', email_verified: false, name: 'Bruno Dumont', given_name: 'Bruno' },
}

const server = http.createServer()
server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address()
  const issuer = `http://127.0.0.1:${port}`
  const provider = new Provider(issuer, {
    clients: [{
      client_id: process.env.OIDC_CLIENT_ID || 'reinventons',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'a-test-secret-of-some-length',
      redirect_uris: (process.env.OIDC_REDIRECT_URIS || '').split(',').filter(Boolean),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    ...(process.env.OIDC_JWKS ? { jwks: JSON.parse(process.env.OIDC_JWKS) } : {}),
    pkce: { required: () => true, methods: ['S256'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name'] },
    features: { devInteractions: { enabled: true } },
    conformIdTokenClaims: false, // the claims go in the ID token, as many providers do
    async findAccount(_ctx, id) {
      const account = ACCOUNTS[id]
      if (!account) return undefined
      return { accountId: id, async claims() { return { sub: id, ...account } } }
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId)
      if (grantId) return ctx.oidc.provider.Grant.find(grantId)
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId })
      grant.addOIDCScope('openid email profile')
      await grant.save()
      return grant
    },
  })
  provider.on('server_error', (_ctx, err) => console.error('server_error', err))
  server.on('request', provider.callback())
  console.log(`ready ${issuer}`)
})

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)))
