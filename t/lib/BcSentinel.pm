package BcSentinel;
# Redis with a replica and three Sentinels for a BcTest (Debian's
# redis-server and redis-sentinel), on free loopback ports: the primary is
# the test's own Redis ($t->start_redis), master name "bc", quorum 2,
# down-after 1 s. Used by t/99-sentinel*.t.
use strict;
use warnings;
use BcTest;

# one RESP command to another of the test's servers
sub rcall {
    my ($t, $port, @a) = @_;
    local $t->{redis_port} = $port;
    return $t->redis(@a);
}

# Starts the primary (conf: a redis.conf for it and the replica), the
# replica and three sentinels, and waits until every sentinel knows the
# replica and the other two. Returns { primary, replica, sentinels => [ports],
# list => "127.0.0.1:P,..." }.
sub start {
    my ($t, %opt) = @_;
    my $d = $t->dir;
    my $primary = $t->start_redis($opt{conf} ? (conf => $opt{conf}) : ());
    my $replica = BcTest::free_port();
    $t->spawn('replica', 'redis-server', ($opt{conf} ? $opt{conf} : ()), '--port', $replica,
           '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', $d,
           '--protected-mode', 'no', '--replicaof', '127.0.0.1', $primary);
    BcTest::wait_port($replica, 1) or die 'replica did not start';

    my @sentinels = map { BcTest::free_port() } 1 .. 3;
    for my $i (0 .. 2) {
        # a sentinel rewrites its own file: one each, writable
        my $conf = $t->write_file("sentinel$i.conf", <<"CONF");
port $sentinels[$i]
bind 127.0.0.1
dir $d
protected-mode no
sentinel monitor bc 127.0.0.1 $primary 2
sentinel down-after-milliseconds bc 1000
sentinel failover-timeout bc 5000
sentinel parallel-syncs bc 1
CONF
        $t->spawn("sentinel$i", 'redis-sentinel', $conf);
        BcTest::wait_port($sentinels[$i], 1) or die "sentinel $i did not start";
    }
    BcTest::wait_until(sub {
        for my $s (@sentinels) {
            return 0 unless @{ rcall($t, $s, 'SENTINEL', 'replicas', 'bc') } == 1
                         && @{ rcall($t, $s, 'SENTINEL', 'sentinels', 'bc') } == 2;
        }
        1 }, 30) or die 'the sentinels did not find each other and the replica';
    return { primary => $primary, replica => $replica, sentinels => \@sentinels,
             list => join(',', map { "127.0.0.1:$_" } @sentinels) };
}

1;
