# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: run test build

# Starts the server on http://127.0.0.1:8080 with an embedded SQLite database in ./data.
run:
	go run ./cmd/switchboard

# The whole suite: formatting, vet, and every test with the race detector.
# Storage tests also run on PostgreSQL when SWITCHBOARD_TEST_POSTGRES is set;
# browser tests run when Chromium is installed (both are required under CI=true).
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

# A static release binary.
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$$(git describe --tags --always 2>/dev/null || echo dev)" -o switchboard ./cmd/switchboard
