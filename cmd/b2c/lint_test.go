package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestLintClasses runs one line of each class that b2c lint catches across
// options (cmdline.Check) through the command, with its exit status.
func TestLintClasses(t *testing.T) {
	const minio = `b2c.minio="s3,http://10.42.0.1:9000,ACCESSKEY,SECRETKEY" `
	for _, tt := range []struct {
		name string
		line string
		code int
		want string // the whole output
	}{
		{"undefined alias", minio + `b2c.volume=job,mirror=s4/jobs,pull_on=pipeline_start b2c.run="-v job:/job docker://alpine ls /job"`, 1,
			"ERROR: b2c.volume=job,mirror=s4/jobs,pull_on=pipeline_start: no b2c.minio defines the alias s4: the volume step fails, no container runs (did you mean s3?)\n"},
		{"undefined image store", `b2c.storage=additionalimagestores=shared`, 1,
			"ERROR: b2c.storage=additionalimagestores=shared: no b2c.filesystem defines shared: the storage step fails, no container runs\n"},
		{"undefined volume filesystem", `b2c.volume=job,filesystem=shared`, 0,
			"WARNING: b2c.volume=job,filesystem=shared: no b2c.filesystem defines shared: the volume's files go to /mnt/shared/job, in RAM\nOK\n"},
		{"cache device typo", `b2c.cache_device=atuo`, 0,
			"WARNING: b2c.cache_device=atuo: neither a keyword (none, auto, reset) nor a /dev path nor a b2c.filesystem name: the cache is in RAM (did you mean auto?)\nOK\n"},
		{"cache on undefined nbd", `b2c.cache_device=/dev/nbd0`, 0,
			"WARNING: b2c.cache_device=/dev/nbd0: no b2c.nbd defines /dev/nbd0: the device will not appear, the cache is in RAM\nOK\n"},
		{"ntp typo", `b2c.ntp_peer=nnoe`, 0, "WARNING: b2c.ntp_peer=nnoe: read as the NTP host \"nnoe\" (did you mean none?)\nOK\n"},
		{"iface typo", `b2c.iface=eth0,atuo`, 0, "WARNING: b2c.iface=eth0,atuo: the parameter atuo is unknown, ignored (did you mean auto?)\nOK\n"},
		{"unclosed quote", `b2c.run="docker://alpine echo hi b2c.pipefail`, 1,
			"ERROR: b2c.run=docker://alpine echo hi b2c.pipefail: a double quote in this token is never closed: the kernel gives it the rest of the line; close it\n"},
		{"value split by the kernel", `b2c.run=-ti "docker://alpine echo hi"`, 1,
			"WARNING: docker://alpine echo hi: looks like part of the value of the b2c.run before it, which the kernel split off: quote the whole value in double quotes: b2c.run=\"-ti docker://alpine echo hi\"\n" +
				"ERROR: b2c.run=-ti: no image given\n"},
		{"mirror that never transfers", minio + `b2c.volume=job,mirror=s3/jobs`, 0,
			"WARNING: b2c.volume=job,mirror=s3/jobs: a mirror with neither pull_on nor push_on never transfers anything (no moment, no transfer)\nOK\n"},
		{"keys and passwords masked", `b2c.minio=s3,https://s3.lab,AK1234,SK5678 b2c.volume=v,mirror=s3/b,encrypt_key=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY= b2c.proxy=https=http://u:pr0xypw@p:3128,bogus=1`, 1,
			"ERROR: b2c.proxy=https=http://u:*****@p:3128,bogus=1: invalid value \"https=http://u:*****@p:3128,bogus=1\" for b2c.proxy: unknown key \"bogus\"; accepted: https=URL[,http=URL][,no=HOST|HOST]\n" +
				"WARNING: b2c.volume=v,mirror=s3/b,encrypt_key=*****: a mirror with neither pull_on nor push_on never transfers anything (no moment, no transfer)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := exitCode(run(context.Background(), []string{"lint", tt.line}, strings.NewReader(""), &out, &errb), &errb)
			if code != tt.code || out.String() != tt.want {
				t.Errorf("b2c lint %q: exit %d, output\n%s\nwant exit %d, output\n%s", tt.line, code, out.String(), tt.code, tt.want)
			}
		})
	}
}

// TestHelp: every command's -h and --help print its usage on stdout and
// exit 0.
func TestHelp(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lint", "-h"}, "usage: b2c lint"},
		{[]string{"lint", "--help"}, "usage: b2c lint"},
		{[]string{"explain", "-h"}, "usage: b2c explain"},
		{[]string{"explain", "--help"}, "usage: b2c explain"},
		{[]string{"boot-config", "-h"}, "usage: b2c boot-config"},
		{[]string{"boot-config", "grub", "--help"}, "usage: b2c boot-config"},
		{[]string{"disk", "-h"}, "usage: b2c disk"},
		{[]string{"disk", "--help"}, "-cache-size"},
		{[]string{"run", "--help"}, "usage: b2c run"},
		{[]string{"help", "lint"}, "usage: b2c lint"},
		{[]string{"--help"}, "usage: b2c COMMAND"},
	} {
		var out, errb bytes.Buffer
		code := exitCode(run(context.Background(), tt.args, strings.NewReader("b2c.pipefail"), &out, &errb), &errb)
		if code != 0 || !strings.Contains(out.String(), tt.want) || errb.Len() != 0 {
			t.Errorf("b2c %q: exit %d, stdout %q, stderr %q; want exit 0 and %q on stdout", tt.args, code, out.String(), errb.String(), tt.want)
		}
	}
}
