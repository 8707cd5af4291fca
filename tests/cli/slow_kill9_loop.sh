# The kill -9 loop of kill9_loop.sh, 200 times with another random sequence (label: slow).
KILLS=200 KILL_SEED=11 exec bash "$(dirname "$0")/kill9_loop.sh"
