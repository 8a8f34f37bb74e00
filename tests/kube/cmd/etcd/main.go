// Command etcd is the etcd server at the version k8s.io/kubernetes pins,
// built from its Go module (go.etcd.io/etcd/server/v3) so that the test
// control plane needs nothing but the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
