#!/usr/bin/perl
# docs/directives.md -> bitcache-directives(5), so that the man page says
# what the reference says. Knows the markdown that file uses: headings,
# paragraphs, "- " lists (continued by indented lines), 4-space code blocks
# and `code` spans. Usage: directives-man.pl VERSION < directives.md
use strict;
use warnings;

my $version = shift // die "usage: $0 VERSION < docs/directives.md\n";

sub esc {
    my ($s) = @_;
    $s =~ s/\\/\\e/g;
    $s =~ s/-/\\-/g;
    return $s;
}

# inline markdown of one line: `code` bold, the rest escaped
sub inline {
    my ($s) = @_;
    my $out = '';
    for my $part (split /(`[^`]*`)/, $s) {
        $out .= $part =~ /^`(.*)`$/ ? "\\fB" . esc($1) . "\\fR" : esc($part);
    }
    $out =~ s/^([.'])/\\&$1/;
    return $out;
}

print ".TH BITCACHE\\-DIRECTIVES 5 \"\" \"bitcache $version\" \"Bitcache\"\n",
      ".SH NAME\nbitcache\\-directives \\- the directives of the Bitcache nginx module\n",
      ".SH SYNOPSIS\n.nf\nload_module modules/ngx_http_bitcache_module.so;\n",
      "(Debian: /etc/nginx/modules\\-enabled/50\\-mod\\-http\\-bitcache.conf)\n.fi\n",
      ".SH DESCRIPTION\n";
my $mode = 'text';    # text, code, list
while (my $line = <STDIN>) {
    chomp $line;
    if ($line =~ /^# /) {
        next;
    }
    if ($line =~ /^(#{2,3}) (.*)$/) {
        my ($level, $title) = (length $1, $2);
        print ".fi\n.RE\n" if $mode eq 'code';
        $mode = 'text';
        if ($level == 2 && $title !~ /^bitcache/) {
            print '.SH ', uc(inline($title)), "\n";
        } else {
            print '.SS ', inline($title), "\n";
        }
        next;
    }
    if ($line =~ /^    (.*)$/ && $mode ne 'list') {
        print ".RS\n.nf\n" if $mode ne 'code';
        $mode = 'code';
        print inline($1), "\n";
        next;
    }
    if ($mode eq 'code') {
        print ".fi\n.RE\n";
        $mode = 'text';
        next if $line eq '';
    }
    if ($line =~ /^- (.*)$/) {
        print ".IP \\(bu 2\n", inline($1), "\n";
        $mode = 'list';
    } elsif ($line eq '') {
        print ".PP\n";
        $mode = 'text';
    } elsif ($mode eq 'list' && $line =~ /^\s+(.*)$/) {
        print inline($1), "\n";
    } else {
        print ".PP\n" if $mode eq 'list';
        $mode = 'text';
        print inline($line), "\n";
    }
}
print ".fi\n.RE\n" if $mode eq 'code';
print ".SH SEE ALSO\n.BR bitcache (1),\n.BR nginx (8).\n",
      "/usr/share/doc/libnginx\\-mod\\-http\\-bitcache/directives.md.gz\n";
