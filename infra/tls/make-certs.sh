#!/bin/sh
# A local certificate authority and one certificate per TDT service, for mutual TLS on gRPC.
#
#   sh infra/tls/make-certs.sh DIR [IDENTITY ...]     (default: gateway auth trees sessions hooks)
#
# Writes DIR/ca/ca.pem and DIR/ca/ca-key.pem (the CA; its key never leaves DIR/ca), and for each
# identity DIR/<identity>/ca.pem, cert.pem and key.pem: everything one process mounts, nothing
# more. The certificate's CN is the identity (what the services check); its SANs cover the
# addresses callers dial: localhost and 127.0.0.1 (npm start), the compose service name, and
# the Kubernetes Service names in namespace $TDT_K8S_NAMESPACE (default tdt).
# Idempotent: an existing CA and existing certificates are kept, so re-running adds identities.
# Needs only the openssl command line (OpenSSL 1.1.1 or 3).
set -eu

dir=${1:?usage: make-certs.sh DIR [IDENTITY ...]}
shift
[ "$#" -gt 0 ] || set -- gateway auth trees sessions hooks
namespace=${TDT_K8S_NAMESPACE:-tdt}
days=${TDT_CERT_DAYS:-825}

umask 077
mkdir -p "$dir/ca"
if [ ! -f "$dir/ca/ca.pem" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca/ca-key.pem" 2>/dev/null
  openssl req -x509 -new -key "$dir/ca/ca-key.pem" -sha256 -days 3650 -subj "/CN=TDT local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca/ca.pem"
  echo "made CA $dir/ca/ca.pem"
fi

for name in "$@"; do
  case "$name" in
    *[!a-z0-9-]* | "" | -*) echo "make-certs.sh: bad identity '$name' (lowercase letters, digits, -)" >&2; exit 2 ;;
  esac
  out="$dir/$name"
  mkdir -p "$out"
  cp "$dir/ca/ca.pem" "$out/ca.pem"
  [ -f "$out/cert.pem" ] && [ -f "$out/key.pem" ] && continue
  extensions="$out/extensions.cnf"
  cat >"$extensions" <<CNF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
# Every service is a server to its callers and a client of the services it calls.
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:$name, DNS:localhost, IP:127.0.0.1, IP:::1, DNS:$name.$namespace, DNS:$name.$namespace.svc, DNS:$name.$namespace.svc.cluster.local
CNF
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/key.pem" 2>/dev/null
  openssl req -new -key "$out/key.pem" -subj "/CN=$name" -out "$out/request.csr"
  openssl x509 -req -in "$out/request.csr" -CA "$dir/ca/ca.pem" -CAkey "$dir/ca/ca-key.pem" -CAcreateserial \
    -sha256 -days "$days" -extfile "$extensions" -out "$out/cert.pem" 2>/dev/null
  rm -f "$out/request.csr" "$extensions"
  echo "made $out/cert.pem (CN=$name)"
done
