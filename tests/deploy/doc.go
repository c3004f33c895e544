// Package deploy proves the container deployment on this machine's Docker
// engine: the image from deploy/Dockerfile (built offline from a host
// binary by `make image`), a Redis image from the machine's own
// redis-server (`make redis-image`), and the root docker-compose.yml
// running a cluster of three bot replicas against the Bot API fake and an
// HTTP origin that the test serves on the compose network's gateway.
//
// It also keeps .env.example in step with the configuration table of
// internal/config and with the variables docker-compose.yml reads.
//
// Tests that need Docker skip, saying so, when no engine answers `docker
// info` (and fail instead under CI=true when docker-compose is missing
// beside a running engine). They drive the real docker and docker-compose
// commands and leave no container, network, volume or image tag behind.
package deploy
