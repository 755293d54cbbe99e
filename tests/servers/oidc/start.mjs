// A certified OpenID provider (the npm package oidc-provider, see package.json) on 127.0.0.1,
// for the tests of "sign in with OpenID Connect" (tests/support_oidc.py starts it). Run by the
// system Node:
//
//   OIDC_PORT=0 OIDC_CLIENT_ID=reinventons OIDC_CLIENT_SECRET=... \
//     OIDC_REDIRECT_URIS=http://testserver/account/oidc/test/callback node tests/servers/oidc/start.mjs
//
// One confidential client (client_secret_basic) that must use PKCE with S256, the redirect URIs
// given (comma-separated), and accounts: "alice" (e-mail verified), "bruno" (e-mail not
// verified), and for the verified residents' tests "chloe" (a minor living in 4020) and "david"
// (living in Brussels, 1000); alice lives in 4000. OIDC_SCOPES (default "openid email profile
// address") are the scopes this provider offers: "openid email" makes a provider that says
// nothing of addresses nor birth dates. OIDC_CONFORM=1: the claims only at the userinfo endpoint. The login is oidc-provider's development interaction (a form taking any password:
// the test drives it with httpx); consent is granted without a page (loadExistingGrant) for the
// scopes offered. OIDC_JWKS (optional): the provider's signing keys, a JSON
// JWK set with private parts, so that a test can also sign tokens as this provider. Prints `ready http://127.0.0.1:PORT` once it listens and
// stops on SIGTERM or SIGINT.
import http from 'node:http'
import Provider from 'oidc-provider'

const ACCOUNTS = {
  alice: { email: 'alice@example.org', email_verified: true, name: 'Alice Lambert', given_name: 'Alice',
    birthdate: '1985-04-12', address: { postal_code: '4000', locality: 'Liège', country: 'BE' } },
  bruno: { email: 'bruno@example.org', email_verified: false, name: 'Bruno Dumont', given_name: 'Bruno' },
  chloe: { email: 'chloe@example.org', email_verified: true, name: 'Chloé Renard', given_name: 'Chloé',
    birthdate: '2015-06-01', address: { postal_code: '4020', locality: 'Liège', country: 'BE' } },
  david: { email: 'david@example.org', email_verified: true, name: 'David Peeters', given_name: 'David',
    birthdate: '1970-01-30', address: { postal_code: '1000', locality: 'Bruxelles', country: 'BE' } },
}
const SCOPES = (process.env.OIDC_SCOPES || 'openid email profile address').split(' ').filter(Boolean)
const CLAIMS = { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'birthdate'],
  address: ['address'] }

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
    claims: Object.fromEntries(SCOPES.map((scope) => [scope, CLAIMS[scope] || []])),
    scopes: SCOPES,
    features: { devInteractions: { enabled: true } },
    // The claims go in the ID token, as many providers do; OIDC_CONFORM=1 keeps the scopes' claims
    // for the userinfo endpoint only (the ID token then carries little more than `sub`).
    conformIdTokenClaims: process.env.OIDC_CONFORM === '1',
    async findAccount(_ctx, id) {
      const account = ACCOUNTS[id]
      if (!account) return undefined
      return { accountId: id, async claims() { return { sub: id, ...account } } }
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId)
      if (grantId) return ctx.oidc.provider.Grant.find(grantId)
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId })
      grant.addOIDCScope(SCOPES.join(' '))
      await grant.save()
      return grant
    },
  })
  provider.on('server_error', (_ctx, err) => console.error('server_error', err))
  server.on('request', provider.callback())
  console.log(`ready ${issuer}`)
})

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)))
